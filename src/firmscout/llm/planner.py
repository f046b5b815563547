"""Planning a query through an LLM: implements the pipeline's Planner protocol."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from firmscout.entities import Constraints, Criterion, PlanDraft
from firmscout.llm.base import LLM
from firmscout.llm.query_prompts import planning_messages, planning_schema


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(v.strip() for v in value if isinstance(v, str) and v.strip()) if isinstance(value, list) else ()


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _criteria(value: Any) -> tuple[Criterion, ...]:
    out: list[Criterion] = []
    for row in value if isinstance(value, list) else ():
        if isinstance(row, dict) and all(isinstance(row.get(k), str) for k in ("key", "name", "criterion")):
            out.append(Criterion(row["key"], row["name"], row["criterion"]))
    return tuple(out)


def draft_from_reply(reply: dict[str, Any], model: str) -> PlanDraft:
    """The reply as our type, keeping only well-typed parts (checked again although the adapter checks the
    schema: any `LLM` may stand behind the planner). Meaning is validated by the pipeline."""
    c = reply.get("constraints")
    c = c if isinstance(c, dict) else {}
    constraints = Constraints(
        countries=_strings(c.get("countries")),
        min_employees=_int(c.get("min_employees")),
        max_employees=_int(c.get("max_employees")),
        founded_after=_int(c.get("founded_after")),
        founded_before=_int(c.get("founded_before")),
    )
    return PlanDraft(criteria=_criteria(reply.get("criteria")), constraints=constraints,
                     search_terms=_strings(reply.get("search_terms")), model=model,
                     web_searches=_strings(reply.get("web_searches")))


class LLMPlanner:
    """`Planner` over any `LLM`: one request per query. Raises `LLMError` as the LLM does."""

    def __init__(self, llm: LLM, model: str) -> None:
        self._llm = llm
        self._model = model

    async def draft(self, query: str, given: Sequence[Criterion] | None) -> PlanDraft:
        reply, usage = await self._llm.complete_json(
            planning_messages(query, given), planning_schema(infer_criteria=given is None), "query_plan"
        )
        return replace(draft_from_reply(reply, self._model), usage=usage)
