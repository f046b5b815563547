"""Evaluate: grade every criterion 1–5 with an explanation and sources; qualify and rank."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from firmscout.entities import CompanyProfile, Criterion, Grade, Graded, Plan
from firmscout.pipeline.local.grader import grade_company
from firmscout.pipeline.local.ranking import is_high_fit, relevance


class Grader(Protocol):
    """Grades companies against criteria; one {key: Grade} per profile, in order, plus tokens spent.
    Errors: provider failures raise `LLMError` (transient or not)."""

    async def grade(self, criteria: Sequence[Criterion], profiles: Sequence[CompanyProfile], plan: Plan) -> Graded: ...


class LocalGrader:
    """The documented no-LLM method: fields and text of the profile, matched against parsed criteria."""

    async def grade(self, criteria: Sequence[Criterion], profiles: Sequence[CompanyProfile], plan: Plan) -> Graded:
        grades = []
        for profile in profiles:
            grades.append(grade_company(criteria, profile, plan))
            # Yield between companies: a batch is tens of milliseconds of CPU, and another task of this
            # worker may be inside a write transaction waiting for its next statement. On SQLite that
            # transaction holds the database's one write lock, and every other worker process waits.
            await asyncio.sleep(0)
        return Graded(grades)


@dataclass(frozen=True)
class Evaluation:
    scores: dict[str, Grade]
    relevance: int
    is_high_fit: bool


def qualify(scores: dict[str, Grade]) -> Evaluation:
    return Evaluation(scores=scores, relevance=relevance(scores), is_high_fit=is_high_fit(scores))
