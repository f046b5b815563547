"""`explain`: show how a query is understood, through the same plan stage a task runs: the local
parse, and with an LLM configured the plan the worker would grade and search with after the LLM's
refinement (criteria inference, query expansion). `explain --task ID` shows why a task found what it
found: its plan, and how many candidates each criterion removed."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from firmscout.api.schemas import CandidatesRemoved
from firmscout.config import Settings
from firmscout.tasks import accounts
from firmscout.tasks.explain import constraints_of
from firmscout.tasks.runtime import open_runtime
from firmscout.tasks.shortfall import removal_summary


def print_explanation(parse: dict[str, Any]) -> None:
    out = Console(soft_wrap=True)
    out.print(f"Query: {parse['query']}", highlight=False)
    out.print(f"Focus: {parse['focus'] or '—'}   Places: {', '.join(parse['places']) or '—'}", highlight=False)
    table = Table(title="Criteria (each graded 1–5)")
    for column in ("key", "name", "criterion"):
        table.add_column(column, overflow="fold")
    for c in parse["criteria"]:
        table.add_row(c["key"], c["name"], c["criterion"])
    out.print(table)
    constraints = Table(title="Structured constraints")
    constraints.add_column("constraint")
    constraints.add_column("value", overflow="fold")
    for key, value in parse["constraints"].items():
        constraints.add_row(key, ", ".join(map(str, value)) if isinstance(value, list) else str(value))
    out.print(constraints)
    out.print(f"Full-text search terms: {', '.join(parse['search_terms']) or '—'}", highlight=False)
    out.print("Web searches (the web_search source): " + ("; ".join(parse["web_searches"]) or "—"), highlight=False)
    if (llm := parse.get("llm")) is not None:
        refined = Table(title=f"Criteria after the LLM's plan ({llm['model']}; what a task grades)")
        for column in ("key", "name", "criterion"):
            refined.add_column(column, overflow="fold")
        for c in llm["criteria"]:
            refined.add_row(c["key"], c["name"], c["criterion"])
        out.print(refined)
        merged = ", ".join(f"{k}={v}" for k, v in llm["constraints"].items() if k != "topics") or "—"
        out.print(f"Constraints after merging: {merged}", highlight=False)
        out.print(f"LLM search terms (added): {', '.join(llm['expansion_terms']) or '—'}", highlight=False)
        usage = llm["usage"]
        out.print(f"Tokens: {usage['prompt_tokens']} prompt + {usage['completion_tokens']} completion "
                  "(0 when cached)", highlight=False)


async def explain_task(settings: Settings, task_id: str) -> dict[str, Any]:
    """A task of the local workspace (the one `firmscout search` uses): its plan, funnel and removals."""
    async with open_runtime(settings) as runtime:
        caller = await accounts.local_caller(runtime.sessions)
        task = await runtime.service.get(caller, task_id)
        plan = await runtime.service.plan(caller, task_id)
    removed = CandidatesRemoved(**(task.candidates_removed or {}))
    return {
        "task_id": task.id,
        "query": task.query,
        "status": task.status,
        "stop_reason": task.stop_reason,
        "desired_num_results": task.desired_num_results,
        "num_results_discovered": task.num_results_discovered,
        "num_results_evaluated": task.num_results_evaluated,
        "num_results": task.num_results,
        "criteria": [c.to_dict() for c in plan.criteria],
        "constraints": constraints_of(plan),
        "search_terms": list(plan.all_search_terms),
        "web_searches": list(plan.web_searches),
        "candidates_removed": removed.model_dump(),
        "summary": removal_summary(task, plan),
    }


def print_task_explanation(found: dict[str, Any]) -> None:
    out = Console(soft_wrap=True)
    stopped = f" ({found['stop_reason']})" if found["stop_reason"] else ""
    out.print(f"Task {found['task_id']}: {found['query']}", highlight=False)
    out.print(f"Status: {found['status']}{stopped}   Results: {found['num_results']} of "
              f"{found['desired_num_results']} asked   Candidates: {found['num_results_discovered']} found, "
              f"{found['num_results_evaluated']} graded", highlight=False)
    removed = found["candidates_removed"]
    table = Table(title=f"Criteria, and the candidates each failed (of {removed['considered']} considered)")
    for column in ("key", "criterion", "failed"):
        table.add_column(column, overflow="fold", justify="right" if column == "failed" else "left")
    for c in found["criteria"]:
        table.add_row(c["key"], c["criterion"], str(removed["by_criterion"].get(c["key"], 0)))
    out.print(table)
    out.print(f"Search terms: {', '.join(found['search_terms']) or '—'}", highlight=False)
    out.print("Web searches: " + ("; ".join(found["web_searches"]) or "—"), highlight=False)
    out.print(found["summary"], highlight=False)
