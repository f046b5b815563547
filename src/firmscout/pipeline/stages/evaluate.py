"""Evaluate: grade every criterion 1–5 with an explanation and sources; qualify and rank."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from firmscout.entities import CompanyProfile, Criterion, Grade, Plan
from firmscout.pipeline.local.grader import grade_company
from firmscout.pipeline.local.ranking import is_high_fit, relevance


class Grader(Protocol):
    """Grades companies against criteria. Errors: provider failures raise `LLMError`."""

    async def grade(
        self, criteria: Sequence[Criterion], profiles: Sequence[CompanyProfile], plan: Plan
    ) -> list[dict[str, Grade]]: ...


class LocalGrader:
    """The documented no-LLM method: fields and text of the profile, matched against parsed criteria."""

    async def grade(
        self, criteria: Sequence[Criterion], profiles: Sequence[CompanyProfile], plan: Plan
    ) -> list[dict[str, Grade]]:
        return [grade_company(criteria, profile, plan) for profile in profiles]


@dataclass(frozen=True)
class Evaluation:
    scores: dict[str, Grade]
    relevance: int
    is_high_fit: bool


def qualify(scores: dict[str, Grade]) -> Evaluation:
    return Evaluation(scores=scores, relevance=relevance(scores), is_high_fit=is_high_fit(scores))
