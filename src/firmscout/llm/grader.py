"""Grading through an LLM, batched: implements the pipeline's Grader protocol."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from firmscout.entities import CompanyProfile, Criterion, Grade, Graded, Plan
from firmscout.errors import LLMError
from firmscout.llm.base import LLM, Usage
from firmscout.llm.prompts import grading_messages, grading_schema


def _grades(reply: dict[str, Any], criteria: Sequence[Criterion], profile: CompanyProfile,
            row: dict[str, Any] | None) -> dict[str, Grade]:
    if row is None:
        raise LLMError(f"the model's reply has no grades for {profile.domain}")
    scores = row.get("scores") or {}
    out: dict[str, Grade] = {}
    allowed = set(profile.sources)
    for criterion in criteria:
        score = scores.get(criterion.key)
        if not isinstance(score, dict) or not isinstance(score.get("grade"), int) or not 1 <= score["grade"] <= 5:
            raise LLMError(f"the model's grade for {profile.domain}/{criterion.key} is missing or not 1-5")
        # Only URLs from the profile may be cited: a model must not be able to invent a source.
        cited = tuple(s for s in score.get("sources") or () if s in allowed) or profile.sources
        out[criterion.key] = Grade(score["grade"], str(score.get("explanation") or "").strip() or "(no reason given)",
                                   cited)
    return out


class LLMGrader:
    def __init__(self, llm: LLM, batch_size: int = 5) -> None:
        self._llm = llm
        self._batch_size = batch_size

    async def grade(self, criteria: Sequence[Criterion], profiles: Sequence[CompanyProfile], plan: Plan) -> Graded:
        graded: list[dict[str, Grade]] = []
        total = Usage()
        for start in range(0, len(profiles), self._batch_size):
            batch = profiles[start:start + self._batch_size]
            reply, usage = await self._llm.complete_json(
                grading_messages(criteria, batch), grading_schema(criteria), "company_grades"
            )
            total = total + usage
            rows = {str(r.get("domain")): r for r in reply.get("companies") or () if isinstance(r, dict)}
            graded += [_grades(reply, criteria, p, rows.get(p.domain)) for p in batch]
        return Graded(graded, total)
