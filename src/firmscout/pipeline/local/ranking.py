"""High-fit rule, relevance score and the structured pre-filter."""

from __future__ import annotations

import math
from collections.abc import Mapping

from firmscout.entities import CompanyProfile, Grade, Plan
from firmscout.pipeline.local.grader import requirement, structured_checks


def _needed(total: int) -> int:
    # Integer form of count/total >= 0.75, so 3/4 passes without float rounding doubts.
    return math.ceil(total * 3 / 4)


def is_high_fit(scores: Mapping[str, Grade]) -> bool:
    """Spec §4.2: at least 75% of the criteria are graded 4 or 5; a result with no criteria is not."""
    if not scores:
        return False
    good = sum(grade.grade >= 4 for grade in scores.values())
    return good >= _needed(len(scores))


def relevance(scores: Mapping[str, Grade]) -> int:
    """Relevance 0-100 = round(100 × mean((grade − 1) / 4)) over the criteria.

    Every criterion at 5 gives 100, every one at 1 gives 0, and each grade step is worth the same
    amount; no criteria gives 0. Results sort by this, descending (spec decision 6).
    """
    if not scores:
        return 0
    mean = sum((min(max(g.grade, 1), 5) - 1) / 4 for g in scores.values()) / len(scores)
    return round(100 * mean)


def passes_prefilter(plan: Plan, profile: CompanyProfile) -> bool:
    """False when the profile's known location, headcount or founding year already rule out high-fit.

    Each criterion's place, size and founding-year parts are checked against what the profile knows
    so far; a part graded 1 (a clear miss on *known* data: headquarters in Germany for "banks in
    Spain") can never become a 4 or 5 later. Missing data and near misses are not held against a
    candidate: enrichment may fill the gap, and grading decides the borderline cases. Topics are never
    checked here, because the description that proves them often arrives only with enrichment.
    The candidate is dropped only if so many criteria are already lost
    that the 75% high-fit rule cannot be met, so a miss on one of four criteria still gets graded.
    """
    total = len(plan.criteria)
    if total == 0:
        return True
    lost = 0
    for criterion in plan.criteria:
        checks = structured_checks(requirement(criterion, plan), profile)
        if any(check.grade == 1 for check in checks):
            lost += 1
    return total - lost >= _needed(total)
