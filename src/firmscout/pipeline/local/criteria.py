"""Plans without an LLM: criteria inferred from the query's parse, or the user's criteria as given."""

from __future__ import annotations

from collections.abc import Sequence

from firmscout.entities import (
    CRITERION_TEXT_MAX,
    CRITERION_TEXT_MIN,
    INFERRED_CRITERIA_MAX,
    Constraints,
    Criterion,
    Plan,
)
from firmscout.pipeline.local.query_parser import ParsedQuery, parse_query
from firmscout.pipeline.local.searches import web_searches
from firmscout.pipeline.local.vocabulary import QUALIFIERS

# Keys of the criteria this module infers; the grader reads their requirement from the plan's
# constraints instead of re-parsing the wording.
INDUSTRY_KEY = "industry_focus"
GEOGRAPHY_KEY = "geography"
SIZE_KEY = "company_size"
FOUNDING_KEY = "founding_year"
STATUS_KEY = "company_status"
GENERIC_KEY = "matches_query"
# "competitors of Stripe": graded by the lookalike ranker; the local grader cannot judge it alone.
REFERENCE_KEY = "similar_to_reference"
INFERRED_KEYS = frozenset({INDUSTRY_KEY, GEOGRAPHY_KEY, SIZE_KEY, FOUNDING_KEY, STATUS_KEY})

# Plainer wording for frequent single topics; everything else uses the query's own words.
_TOPIC_SENTENCES = {
    "bank": "The company is a bank or provides banking services.",
    "insurance": "The company is an insurer or provides insurance.",
    "insurer": "The company is an insurer or provides insurance.",
    "carmaker": "The company manufactures cars or other motor vehicles (an automaker).",
    "automaker": "The company manufactures cars or other motor vehicles (an automaker).",
    "pharmaceutical": "The company develops or manufactures pharmaceutical drugs.",
    "semiconductor": "The company designs or manufactures semiconductors (chips).",
    "chemical": "The company produces chemicals or operates in the chemical industry.",
    "logistics": "The company provides logistics, freight or transport services.",
}


def _fit(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > CRITERION_TEXT_MAX:
        text = text[: CRITERION_TEXT_MAX - 1].rstrip() + "…"
    return text if len(text) >= CRITERION_TEXT_MIN else text.ljust(CRITERION_TEXT_MIN, ".")


def _industry(parsed: ParsedQuery) -> Criterion:
    topics = parsed.constraints.topics
    sentence = _TOPIC_SENTENCES.get(topics[0]) if len(topics) == 1 else None
    if sentence is None:
        sentence = f"The company's industry or main products match '{parsed.focus or ' '.join(topics)}'."
    return Criterion(INDUSTRY_KEY, "Industry focus", _fit(sentence))


def _geography(parsed: ParsedQuery) -> Criterion:
    named = list(parsed.places) or list(parsed.constraints.countries)
    where = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " or " + named[-1]
    return Criterion(GEOGRAPHY_KEY, "Geography", _fit(f"Headquartered in {where}."))


def _size(constraints: Constraints) -> Criterion:
    low, high = constraints.min_employees, constraints.max_employees
    if low is not None and high is not None:
        text = f"The company has between {low:,} and {high:,} employees."
    elif low is not None:
        text = f"The company has at least {low:,} employees."
    else:
        text = f"The company has at most {high:,} employees."
    return Criterion(SIZE_KEY, "Company size", text)


def _founding(constraints: Constraints) -> Criterion:
    after, before = constraints.founded_after, constraints.founded_before
    if after is not None and before is not None:
        text = (
            f"The company was founded in {after}."
            if after == before
            else (f"The company was founded between {after} and {before}.")
        )
    elif after is not None:
        text = f"The company was founded in {after} or later."
    else:
        text = f"The company was founded in {before} or earlier."
    return Criterion(FOUNDING_KEY, "Founding year", text)


def infer_criteria(query: str) -> Plan:
    """Criteria for a query without an LLM: one per recognised facet (topic, place, size, founding year,
    status), one per qualifier the data may not answer ("Series A", "hiring"), and for a relationship query
    ("competitors of Stripe") a `similar_to_reference` criterion, first, instead of a topic made of the name.

    A query with no recognised facet gets one generic `matches_query` criterion carrying the query text.
    """
    parsed = parse_query(query)
    c = parsed.constraints
    criteria: list[Criterion] = []
    if c.topics:
        criteria.append(_industry(parsed))
    if c.countries or c.states or c.cities:
        criteria.append(_geography(parsed))
    if c.min_employees is not None or c.max_employees is not None:
        criteria.append(_size(c))
    if c.founded_after is not None or c.founded_before is not None:
        criteria.append(_founding(c))
    if c.statuses:
        wanted = " or ".join(c.statuses)
        criteria.append(Criterion(STATUS_KEY, "Company status", f"The company's status is {wanted}."))
    keys = {criterion.key for criterion in criteria}
    for qualifier in (q for q in QUALIFIERS if q.name in parsed.qualifiers):
        key, n = qualifier.key, 2
        while key in keys:
            key, n = f"{qualifier.key}_{n}", n + 1
        keys.add(key)
        criteria.append(Criterion(key, qualifier.name[:1].upper() + qualifier.name[1:], qualifier.sentence))
    if parsed.reference:
        text = _fit(f"The company is a competitor or close alternative to {parsed.reference}: a similar core "
                    "product for similar buyers.")
        criteria.insert(0, Criterion(REFERENCE_KEY, f"Similar to {parsed.reference}"[:100], text))
    # The spec's cap; the reference, topic and place come first, qualifiers last.
    criteria = criteria[:INFERRED_CRITERIA_MAX]
    if not criteria:
        text = _fit(f"The company matches the query: {query.strip()}")
        criteria.append(Criterion(GENERIC_KEY, "Matches query", text))
    return Plan(criteria=tuple(criteria), constraints=c, search_terms=parsed.search_terms, criteria_inferred=True,
                web_searches=web_searches(query, parsed))


def _merge(parts: Sequence[ParsedQuery]) -> Constraints:
    # Lists are unions: any criterion's place or topic is a candidate worth finding. Numeric bounds come
    # from the first text stating them (the query before the criteria), because a mix of bounds from
    # different criteria would describe a company none of them asked for.
    def union(name: str) -> tuple[str, ...]:
        out: list[str] = []
        for part in parts:
            out.extend(v for v in getattr(part.constraints, name) if v not in out)
        return tuple(out)

    def first(name: str) -> int | None:
        return next((getattr(p.constraints, name) for p in parts if getattr(p.constraints, name) is not None), None)

    return Constraints(
        countries=union("countries"),
        cities=union("cities"),
        states=union("states"),
        topics=union("topics"),
        min_employees=first("min_employees"),
        max_employees=first("max_employees"),
        founded_after=first("founded_after"),
        founded_before=first("founded_before"),
        statuses=union("statuses"),
    )


def plan_for_criteria(query: str, criteria: Sequence[Criterion]) -> Plan:
    """A plan for user-given criteria: constraints and search terms from the query plus each criterion."""
    parts = [parse_query(query), *(parse_query(c.criterion) for c in criteria)]
    terms: list[str] = []
    for part in parts:
        terms.extend(t for t in part.search_terms if t not in terms)
    return Plan(
        criteria=tuple(criteria),
        constraints=_merge(parts),
        search_terms=tuple(terms[:24]),
        criteria_inferred=False,
        web_searches=web_searches(query, parts[0]),
    )
