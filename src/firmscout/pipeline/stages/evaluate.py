"""Evaluate: grade every criterion 1–5 with an explanation and sources; qualify and rank."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from firmscout.entities import CompanyProfile, Criterion, Grade, Graded, Plan
from firmscout.pipeline.local.grader import grade_company, requirement, with_semantic_topic
from firmscout.pipeline.local.ranking import evidence_strength, failed_criteria, is_high_fit, prominence, relevance


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
            # Yield between companies, so another task's open write transaction (SQLite's one lock) moves on.
            await asyncio.sleep(0)
        return Graded(grades)


class TopicSimilarity(Protocol):
    async def similarity(self, text: str, domains: Sequence[str]) -> dict[str, float]: ...


class HybridGrader:
    """The local method, plus embedding evidence for topics: a company whose description does not name
    the topic but means it (cosine to the topic ≥ `threshold`) gets a 4 on the topic instead of a miss."""

    def __init__(self, semantic: TopicSimilarity, threshold: float, model: str) -> None:
        self._semantic = semantic
        self._threshold = threshold
        self._model = model

    async def grade(self, criteria: Sequence[Criterion], profiles: Sequence[CompanyProfile], plan: Plan) -> Graded:
        graded = await LocalGrader().grade(criteria, profiles, plan)
        if self._threshold > 1:
            return graded
        domains = [p.domain for p in profiles]
        similarities: dict[str, dict[str, float]] = {}  # topic text → domain → cosine
        topic_of: dict[str, str] = {}
        for criterion in criteria:
            topics = requirement(criterion, plan).topics
            if topics:
                text = topic_of[criterion.key] = " ".join(topics)
                if text not in similarities:
                    similarities[text] = await self._semantic.similarity(text, domains)
        if not topic_of:
            return graded
        grades = []
        for profile, scores in zip(profiles, graded.grades, strict=True):
            grades.append({
                key: with_semantic_topic(
                    criterion, profile, plan, scores[key],
                    similarities[topic_of[key]].get(profile.domain) if key in topic_of else None,
                    self._threshold, self._model,
                )
                for criterion in criteria
                for key in (criterion.key,)
            })
        return Graded(grades, graded.usage)


@dataclass(frozen=True)
class Evaluation:
    scores: dict[str, Grade]
    relevance: int
    is_high_fit: bool
    # Tie-breakers of the result order after relevance (pipeline/local/ranking.py), stored with the candidate.
    evidence: int
    prominence: int
    # Criteria graded below 4; what removed the company when it is not a high fit.
    failed: tuple[str, ...]


def qualify(scores: dict[str, Grade], profile: CompanyProfile) -> Evaluation:
    return Evaluation(
        scores=scores, relevance=relevance(scores), is_high_fit=is_high_fit(scores),
        evidence=evidence_strength(scores), prominence=prominence(profile), failed=failed_criteria(scores),
    )
