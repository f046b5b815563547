"""How a query is understood, through the same plan stage a task runs: the local parse, and with an LLM
configured the plan the worker would grade and search with after the LLM's refinement (pure but for that
one cached model request). `explain`, the web app and the MCP server show it."""

from __future__ import annotations

from typing import Any

from firmscout.config import Settings
from firmscout.entities import Plan
from firmscout.llm.registry import llm_planner
from firmscout.pipeline.local.query_parser import parse_query
from firmscout.pipeline.stages.plan import make_plan, refine_plan


def constraints_of(plan: Plan) -> dict[str, Any]:
    return {k: v for k, v in plan.constraints.to_dict().items() if v not in (None, [], ())}


async def explain(query: str, settings: Settings | None = None) -> dict[str, Any]:
    """The local parse; plus, when `settings` configure an LLM that plans queries, its refinement under
    "llm" (one model request, cached like a task's)."""
    plan = make_plan(query, [])
    parsed = parse_query(query)
    out: dict[str, Any] = {
        "query": query,
        "criteria": [c.to_dict() for c in plan.criteria],
        "constraints": constraints_of(plan),
        "search_terms": list(plan.search_terms),
        "web_searches": list(plan.web_searches),
        "focus": parsed.focus,
        "places": list(parsed.places),
    }
    planner = llm_planner(settings) if settings is not None else None
    if planner is not None:
        draft = await planner.draft(query, None)
        refined = refine_plan(plan, draft)
        out["llm"] = {
            "model": draft.model,
            "criteria": [c.to_dict() for c in refined.criteria],
            "constraints": constraints_of(refined),
            "expansion_terms": list(refined.expansion_terms),
            "usage": {"prompt_tokens": draft.usage.prompt_tokens,
                      "completion_tokens": draft.usage.completion_tokens},
        }
    return out
