"""Grading through an LLM, batched: implements the pipeline's Grader protocol."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from firmscout.entities import CompanyProfile, Criterion, Grade, Graded, Plan
from firmscout.errors import LLMError
from firmscout.llm.base import LLM, Usage
from firmscout.llm.evidence import checked_grade
from firmscout.llm.prompts import grading_messages, grading_schema, missing_companies_messages


def _rows(reply: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {str(r.get("domain")): r for r in reply.get("companies") or () if isinstance(r, dict)}


def _grades(criteria: Sequence[Criterion], profile: CompanyProfile, row: dict[str, Any]) -> dict[str, Grade]:
    scores = row.get("scores") or {}
    out: dict[str, Grade] = {}
    for criterion in criteria:
        # Checked again here although the adapter checks the schema: any `LLM` may stand behind this grader.
        score = scores.get(criterion.key)
        score = score if isinstance(score, dict) else {}
        grade = score.get("grade")
        if not isinstance(grade, int) or isinstance(grade, bool) or not 1 <= grade <= 5:
            raise LLMError(f"the model's grade for {profile.domain}/{criterion.key} is missing or not 1-5")
        explanation = str(score.get("explanation") or "").strip() or "(no reason given)"
        # The model cites passage numbers and field names; only our own URLs become sources.
        out[criterion.key] = checked_grade(profile, grade, explanation, score)
    return out


class LLMGrader:
    """`Grader` over any `LLM`: `batch_size` companies per request, the batches of one call in parallel (the
    LLM bounds how many are in flight). Grades rest on quoted evidence (`llm.evidence`): sources are mapped
    from the passages and fields the model cites, and a grade above 3 whose quote is not in the company's
    text is capped at 3. Raises `LLMError` as the LLM does; a reply that still lacks some
    companies after one follow-up is `LLMError(transient=False)`."""

    def __init__(self, llm: LLM, batch_size: int = 5) -> None:
        self._llm = llm
        self._batch_size = batch_size

    async def grade(self, criteria: Sequence[Criterion], profiles: Sequence[CompanyProfile], plan: Plan) -> Graded:
        batches = [profiles[i:i + self._batch_size] for i in range(0, len(profiles), self._batch_size)]
        try:
            async with asyncio.TaskGroup() as group:
                running = [group.create_task(self._grade_batch(criteria, batch)) for batch in batches]
        except* LLMError as failed:
            # The pipeline expects one LLMError; a permanent one wins, so a retry is not wasted on it.
            errors = [e for e in failed.exceptions if isinstance(e, LLMError)]
            raise next((e for e in errors if not e.transient), errors[0]) from None
        graded: list[dict[str, Grade]] = []
        total = Usage()
        for task in running:
            grades, usage = task.result()
            graded += grades
            total = total + usage
        return Graded(graded, total)

    async def _grade_batch(
        self, criteria: Sequence[Criterion], batch: Sequence[CompanyProfile]
    ) -> tuple[list[dict[str, Grade]], Usage]:
        messages, schema = grading_messages(criteria, batch), grading_schema(criteria, batch)
        reply, usage = await self._call(messages, schema)
        rows = _rows(reply)
        if missing := [p.domain for p in batch if p.domain not in rows]:
            reply, more = await self._call(missing_companies_messages(messages, reply, missing), schema)
            usage, rows = usage + more, _rows(reply)
            if still := [p.domain for p in batch if p.domain not in rows]:
                raise LLMError(f"the model's reply has no grades for {', '.join(still)}, twice in a row")
        return [_grades(criteria, p, rows[p.domain]) for p in batch], usage

    async def _call(self, messages: list[dict[str, str]], schema: dict[str, Any]) -> tuple[dict[str, Any], Usage]:
        return await self._llm.complete_json(messages, schema, "company_grades")
