"""Grading without an LLM: each criterion becomes structured requirements, each checked against the profile."""

from __future__ import annotations

from collections.abc import Sequence

from firmscout.entities import CompanyProfile, Constraints, Criterion, Grade, Plan
from firmscout.pipeline.local.checks import (
    Check,
    check_founding,
    check_geography,
    check_qualifier,
    check_size,
    check_status,
    cite,
)
from firmscout.pipeline.local.criteria import (
    FOUNDING_KEY,
    GEOGRAPHY_KEY,
    INDUSTRY_KEY,
    INFERRED_KEYS,
    REFERENCE_KEY,
    SIZE_KEY,
    STATUS_KEY,
)
from firmscout.pipeline.local.query_parser import parse_query
from firmscout.pipeline.local.relationship import check_reference
from firmscout.pipeline.local.topic_match import check_topics
from firmscout.pipeline.local.vocabulary import QUALIFIER_BY_SENTENCE, QUALIFIERS, Qualifier


def requirement(criterion: Criterion, plan: Plan) -> Constraints:
    """What a criterion asks for, as constraints.

    Criteria this package inferred take their facet straight from the plan (their wording is for
    people; re-parsing it could drift). Any other criterion is parsed with the query parser.
    """
    c = plan.constraints
    if criterion.criterion in QUALIFIER_BY_SENTENCE or (plan.criteria_inferred and criterion.key == REFERENCE_KEY):
        return Constraints()  # a qualifier's or the reference's own criterion asks nothing structured
    if plan.criteria_inferred and criterion.key in INFERRED_KEYS:
        if criterion.key == INDUSTRY_KEY:
            return Constraints(topics=c.topics)
        if criterion.key == GEOGRAPHY_KEY:
            return Constraints(countries=c.countries, states=c.states, cities=c.cities)
        if criterion.key == SIZE_KEY:
            return Constraints(min_employees=c.min_employees, max_employees=c.max_employees)
        if criterion.key == STATUS_KEY:
            return Constraints(statuses=c.statuses)
        assert criterion.key == FOUNDING_KEY
        return Constraints(founded_after=c.founded_after, founded_before=c.founded_before)
    return parse_query(criterion.criterion).constraints


def structured_checks(req: Constraints, profile: CompanyProfile) -> list[Check]:
    """The location, size and founding-year checks a requirement calls for (no topic check)."""
    checks: list[Check] = []
    if req.countries or req.states or req.cities:
        checks.append(check_geography(req, profile))
    if req.min_employees is not None or req.max_employees is not None:
        checks.append(check_size(req, profile))
    if req.founded_after is not None or req.founded_before is not None:
        checks.append(check_founding(req, profile))
    if req.statuses:
        checks.append(check_status(req, profile))
    return checks


def qualifiers(criterion: Criterion, plan: Plan) -> tuple[Qualifier, ...]:
    """The qualifiers ("Series A", "hiring") a criterion asks for: an inferred qualifier criterion's own, or
    those its wording names; none for the other inferred criteria (their wording is for people)."""
    if (own := QUALIFIER_BY_SENTENCE.get(criterion.criterion)) is not None:
        return (own,)
    if plan.criteria_inferred and criterion.key in INFERRED_KEYS:
        return ()
    named = parse_query(criterion.criterion).qualifiers
    return tuple(q for q in QUALIFIERS if q.name in named)


def grade_criterion(criterion: Criterion, profile: CompanyProfile, plan: Plan) -> Grade:
    if plan.criteria_inferred and criterion.key == REFERENCE_KEY:
        check = check_reference(plan, profile)
        return Grade(check.grade, check.explanation, check.sources or profile.sources)
    req = requirement(criterion, plan)
    checks = structured_checks(req, profile)
    if req.topics:
        checks.append(check_topics(req.topics, profile))
    checks.extend(check_qualifier(q, profile) for q in qualifiers(criterion, plan))
    if not checks:
        return Grade(
            2,
            "Cannot be checked without an LLM: the criterion names no place, size, founding year or "
            f"topic this grader recognises {cite(profile)}.",
            profile.sources,
        )
    # A check quoting website pages cites them; the others rest on the profile's own sources.
    quoted = tuple(url for check in checks for url in check.sources)
    rest = profile.sources if any(not check.sources for check in checks) else ()
    sources = tuple(dict.fromkeys((*quoted, *rest)))
    if len(checks) == 1:
        return Grade(checks[0].grade, checks[0].explanation, sources)
    # A criterion asking several things holds only as well as its weakest part.
    worst = min(check.grade for check in checks)
    parts = " ".join(f"({i}) {check.explanation}" for i, check in enumerate(checks, start=1))
    return Grade(worst, f"Lowest of {len(checks)} checks: {parts}", sources)


def grade_company(criteria: Sequence[Criterion], profile: CompanyProfile, plan: Plan) -> dict[str, Grade]:
    """Grade every criterion 1-5 from the profile alone; the map is keyed by `Criterion.key` (spec §2.5)."""
    return {criterion.key: grade_criterion(criterion, profile, plan) for criterion in criteria}


def with_semantic_topic(
    criterion: Criterion, profile: CompanyProfile, plan: Plan, grade: Grade, similarity: float | None,
    threshold: float, model: str,
) -> Grade:
    """Raise a topic criterion the keywords missed to 4 when the company's embedding is close to the topic.

    Only the topic part is helped: a criterion whose place, size, founding year or status part is below 4
    keeps its grade, and a grade already 4 or 5 is left as it is (embeddings never lower a grade).
    """
    if similarity is None or similarity < threshold or grade.grade >= 4:
        return grade
    req = requirement(criterion, plan)
    if not req.topics:
        return grade
    structured = structured_checks(req, profile)
    if any(check.grade < 4 for check in structured):
        return grade
    return Grade(
        4,
        f"{grade.explanation} Its description is close in meaning to '{', '.join(req.topics)}' "
        f"(cosine {similarity:.2f} ≥ {threshold:.2f}, {model} embeddings).",
        profile.sources,
    )
