"""High-fit rule, relevance score, the tie-breakers of the result order, and the structured pre-filter."""

from __future__ import annotations

import math
from collections.abc import Mapping

from firmscout.entities import EMPLOYEE_BUCKETS, CompanyProfile, Grade, Plan
from firmscout.pipeline.local.grader import requirement, structured_checks

# Most distinct pages `evidence_strength` counts; below the weight of one more criterion graded 5.
_MAX_CITED = 99
# A stock listing or reported revenue counts as much as a hundredfold headcount in `prominence`.
LISTED_WEIGHT = 200


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


def failed_criteria(scores: Mapping[str, Grade]) -> tuple[str, ...]:
    """Keys of the criteria graded below 4, in grading order: what kept a graded company from high fit."""
    return tuple(key for key, grade in scores.items() if grade.grade < 4)


def evidence_strength(scores: Mapping[str, Grade]) -> int:
    """How firmly the grades are backed, to order results of equal relevance (higher first):
    100 × (criteria graded 5) + (distinct pages cited, at most 99).

    Within one task every company is graded on the same criteria, so equal relevance means an equal sum of
    grades; what still differs is how the grades are made up. A 5 means the evidence states the fact
    outright (a label, a recorded field), a 4 that it is clearly implied (opening text, the website), so
    a fit resting on more 5s is the safer result. Among those, one backed by more distinct pages is better
    corroborated.
    """
    fives = sum(grade.grade >= 5 for grade in scores.values())
    cited = {url for grade in scores.values() for url in grade.sources}
    return 100 * fives + min(len(cited), _MAX_CITED)


def _headcount(profile: CompanyProfile) -> int | None:
    if profile.employees is not None and profile.employees > 0:
        return profile.employees
    # A size bucket alone ("51-200") still places the company on the scale, at its lower bound.
    return next((low for label, low, _ in EMPLOYEE_BUCKETS if label == profile.employee_count), None)


def is_listed(profile: CompanyProfile) -> bool:
    """A stock listing (status "public", as the built-in catalogue records every company) or reported revenue."""
    return (profile.status or "").strip().lower() == "public" or bool(profile.revenue and profile.revenue.strip())


def prominence(profile: CompanyProfile, website_authority: int | None = None) -> int:
    """How well known a company is, to order results of equal relevance and evidence (higher first).

    100 × log10(employees) when the headcount (or its size bucket) is known: 10 → 100, 1,000 → 300,
    100,000 → 500, so a tenfold larger company gains as much at any size; plus `LISTED_WEIGHT` for a listed
    company or one with revenue on record, so a listed company ranks above one nothing is known about.

    `website_authority` is the hook for a domain-authority signal (0-100, e.g. a percentile of a public
    domain ranking). No source provides one yet and candidates do not store it, so callers pass None; once
    one does, it is added here and stored with the candidate like the rest of this value.
    """
    score = 0
    employees = _headcount(profile)
    if employees is not None:
        score += round(100 * math.log10(employees))
    if is_listed(profile):
        score += LISTED_WEIGHT
    if website_authority is not None:
        score += min(max(website_authority, 0), 100)
    return score


def prefilter_losses(plan: Plan, profile: CompanyProfile) -> tuple[str, ...]:
    """Keys of the criteria the profile's *known* data already fails: a place, size, founding-year or
    status part graded 1 (headquarters in Germany for "banks in Spain"), which can never become a 4 or 5."""
    lost: list[str] = []
    for criterion in plan.criteria:
        checks = structured_checks(requirement(criterion, plan), profile)
        if any(check.grade == 1 for check in checks):
            lost.append(criterion.key)
    return tuple(lost)


def prefilter(plan: Plan, profile: CompanyProfile) -> tuple[str, ...]:
    """The criteria that rule the profile out before enrichment and grading; empty when it goes on.

    Each criterion's place, size and founding-year parts are checked against what the profile knows
    so far (`prefilter_losses`). Missing data and near misses are not held against a candidate:
    enrichment may fill the gap, and grading decides the borderline cases. Topics are never
    checked here, because the description that proves them often arrives only with enrichment.
    The candidate is dropped only if so many criteria are already lost
    that the 75% high-fit rule cannot be met, so a miss on one of four criteria still gets graded.
    """
    total = len(plan.criteria)
    if total == 0:
        return ()
    lost = prefilter_losses(plan, profile)
    return lost if total - len(lost) < _needed(total) else ()


def passes_prefilter(plan: Plan, profile: CompanyProfile) -> bool:
    """False when the profile's known location, headcount or founding year already rule out high-fit."""
    return not prefilter(plan, profile)
