"""Plan: the criteria to grade and the search to run, from the user's criteria or inferred from the query.

Two steps. `make_plan` is the local parser's plan: pure and fast, made when a task is created so the
create response already shows criteria. `refine_plan` merges an LLM's draft into it (in the worker, once
per task): the model's criteria replace *inferred* ones only (a caller's criteria are never replaced), its
constraints fill facets the parser did not find (the parser's own readings win), and its search terms
are added to the parser's, bounded.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from firmscout.entities import (
    CRITERION_KEY_PATTERN,
    CRITERION_NAME_MAX,
    CRITERION_TEXT_MAX,
    CRITERION_TEXT_MIN,
    INFERRED_CRITERIA_MAX,
    Constraints,
    Criterion,
    Plan,
    PlanDraft,
)
from firmscout.geography import country_code, country_name, lexicon
from firmscout.pipeline.local.criteria import infer_criteria, plan_for_criteria
from firmscout.pipeline.local.vocabulary import fold, words

MAX_EXPANSION_TERMS = 12
# The model's web searches kept after the local ones: each is a provider request, which most providers bill.
MAX_DRAFTED_SEARCHES = 3
_SEARCH_MAX_CHARS = 200
_KEY = re.compile(CRITERION_KEY_PATTERN)
# Well under CRITERION_KEY_MAX, so the suffix that keeps a key unique ("_2") always fits.
_KEY_MAX = 40
# A search term is a short phrase: longer ones are sentences that would match almost nothing in full text.
_TERM_MAX_WORDS, _TERM_MAX_CHARS = 4, 60
_GENERIC_TERMS = frozenset({"company", "companies", "business", "businesses", "firm", "firms", "services",
                            "service", "solutions", "products", "industry", "inc", "ltd", "group"})


class Planner(Protocol):
    """Reads a query into a draft plan (an LLM). `given` None asks for criteria; otherwise they are the
    caller's and only constraints and search terms are wanted. Errors: `LLMError` (transient or not)."""

    async def draft(self, query: str, given: Sequence[Criterion] | None) -> PlanDraft: ...


def make_plan(query: str, user_criteria: list[dict[str, Any]]) -> Plan:
    if user_criteria:
        return plan_for_criteria(query, [Criterion(**c) for c in user_criteria])
    return infer_criteria(query)


def _key(raw: str, taken: set[str]) -> str:
    key = re.sub(r"[^A-Za-z0-9]+", "_", fold(raw)).strip("_")
    key = re.sub(r"^[^A-Za-z]+", "", key)[:_KEY_MAX].rstrip("_") or "criterion"
    base, n = key, 2
    while key in taken:  # keys are unique within a task (spec decision 11)
        key, n = f"{base}_{n}", n + 1
    taken.add(key)
    return key


def valid_criteria(drafted: Sequence[Criterion]) -> tuple[Criterion, ...]:
    """The model's criteria made to fit the spec's rules (key pattern and uniqueness, name and text lengths,
    at most INFERRED_CRITERIA_MAX); a criterion with no usable text is dropped."""
    out: list[Criterion] = []
    taken: set[str] = set()
    for c in drafted:
        text = " ".join(c.criterion.split())
        if len(text) < CRITERION_TEXT_MIN:
            continue
        if len(text) > CRITERION_TEXT_MAX:
            text = text[: CRITERION_TEXT_MAX - 1].rstrip() + "…"
        name = " ".join(c.name.split())[:CRITERION_NAME_MAX] or c.key[:CRITERION_NAME_MAX] or "Criterion"
        out.append(Criterion(_key(c.key or name, taken), name, text))
        if len(out) == INFERRED_CRITERIA_MAX:
            break
    assert all(_KEY.match(c.key) for c in out)
    return tuple(out)


def _countries(names: Sequence[str]) -> tuple[str, ...]:
    # Names we cannot resolve are dropped: countries become a hard filter on the search, and a misspelt
    # one would silently match nothing. Regions ("Nordic", "DACH") expand as the parser expands them.
    out: list[str] = []
    for name in names:
        place = lexicon().get(words(name))
        if place is not None and not place.cities and not place.states:
            codes: tuple[str, ...] = place.countries
        else:
            code = country_code(name)
            codes = (code,) if code else ()
        out.extend(n for n in map(country_name, codes) if n not in out)
    return tuple(out)


def _bounds(low: int | None, high: int | None, floor: int, ceiling: int) -> tuple[int | None, int | None]:
    low = low if low is not None and floor <= low <= ceiling else None
    high = high if high is not None and floor <= high <= ceiling else None
    if low is not None and high is not None and low > high:
        return None, None  # contradictory: trust neither
    return low, high


def merge_constraints(local: Constraints, drafted: Constraints) -> Constraints:
    """The parser's constraints, with each facet it found nothing for taken from the model (validated).
    Topics, cities, states and statuses stay the parser's: they drive the local checks, which know their
    vocabularies; the model's industry words arrive as search terms instead."""
    countries = local.countries
    if not (local.countries or local.states or local.cities):
        countries = _countries(drafted.countries)
    employees = (local.min_employees, local.max_employees)
    if employees == (None, None):
        employees = _bounds(drafted.min_employees, drafted.max_employees, 1, 10_000_000)
    founded = (local.founded_after, local.founded_before)
    if founded == (None, None):
        founded = _bounds(drafted.founded_after, drafted.founded_before, 1000, datetime.now(UTC).year)
    return Constraints(
        countries=countries, cities=local.cities, states=local.states, topics=local.topics,
        min_employees=employees[0], max_employees=employees[1],
        founded_after=founded[0], founded_before=founded[1], statuses=local.statuses,
    )


def expansion_terms(drafted: Sequence[str], local: Sequence[str]) -> tuple[str, ...]:
    """The model's search terms that add something: short, not generic, not already searched; at most
    MAX_EXPANSION_TERMS, in the model's order."""
    seen = {fold(t) for t in local}
    out: list[str] = []
    for raw in drafted:
        term = " ".join(fold(raw).replace('"', " ").split()).strip(" .,;:-")
        if (not term or term in seen or term in _GENERIC_TERMS or len(term) > _TERM_MAX_CHARS
                or len(term.split()) > _TERM_MAX_WORDS or not any(ch.isalpha() for ch in term)):
            continue
        seen.add(term)
        out.append(term)
        if len(out) == MAX_EXPANSION_TERMS:
            break
    return tuple(out)


def refine_plan(local: Plan, draft: PlanDraft) -> Plan:
    """The local plan refined by an LLM's draft (pure). A caller's criteria are kept as given; inferred
    ones are replaced by the model's when at least one of its criteria is usable."""
    criteria = local.criteria
    if local.criteria_inferred and (drafted := valid_criteria(draft.criteria)):
        criteria = drafted
    return Plan(
        criteria=criteria,
        constraints=merge_constraints(local.constraints, draft.constraints),
        search_terms=local.search_terms,
        criteria_inferred=local.criteria_inferred,
        expansion_terms=expansion_terms(draft.search_terms, local.search_terms),
        planned_by=f"llm:{draft.model}",
        reference=local.reference,
        web_searches=web_searches(local.web_searches, draft.web_searches),
    )


def web_searches(local: Sequence[str], drafted: Sequence[str]) -> tuple[str, ...]:
    """The local plan's searches, then up to MAX_DRAFTED_SEARCHES of the model's that are new (by their folded
    words), plain text of two or more words and at most _SEARCH_MAX_CHARS long."""
    seen = {" ".join(words(s)) for s in local}
    extra: list[str] = []
    for search in drafted:
        text = " ".join(search.split())
        key = " ".join(words(text))
        if len(extra) == MAX_DRAFTED_SEARCHES or not key or key in seen or len(key.split()) < 2 or \
                len(text) > _SEARCH_MAX_CHARS:
            continue
        seen.add(key)
        extra.append(text)
    return (*local, *extra)
