"""Rule-based reading of a discovery query: geography, topic, company size and founding year.

The parser marks the text it understood as a relationship's reference, qualifiers, size, founding-year
and status phrases first (`query_reference.py`, `query_facets.py`: they contain numbers and words such as
"over" that would otherwise look like topics), then places, and reads what is left, minus stopwords and
head nouns, as the topic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from firmscout.entities import Constraints
from firmscout.geography import CAPITALISED_ONLY, CASE_SENSITIVE, country_name, lexicon
from firmscout.pipeline.local.query_facets import (
    overlaps,
    read_founding,
    read_qualifiers,
    read_size,
    read_statuses,
)
from firmscout.pipeline.local.query_reference import read_reference
from firmscout.pipeline.local.vocabulary import (
    ALTERNATIVE_SEP,
    BUYER_PREFIX,
    GENERIC_NOUNS,
    MAX_PHRASE,
    PHRASES,
    PRODUCT_HEADS,
    SOFTWARE_PRODUCT,
    STARTUP,
    STOPWORDS,
    SYNONYMS,
    fold,
    singular,
    synonyms,
)

_TOKEN = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class ParsedQuery:
    text: str
    constraints: Constraints
    # Topic words plus their synonyms, for full-text search; best first.
    search_terms: tuple[str, ...]
    # The query's topic as written ("AI agents for customer support"), for criterion text.
    focus: str | None = None
    # The places as the query named them ("Europe", "Berlin"), for criterion text.
    places: tuple[str, ...] = ()
    # The company a relationship query is about: "Stripe" in "competitors of Stripe" or "Stripe lookalikes".
    reference: str | None = None
    # Asked-for facts no structured field records ("Series A", "hiring"), by `vocabulary.Qualifier.name`.
    qualifiers: tuple[str, ...] = ()


@dataclass
class _Token:
    start: int
    end: int
    raw: str
    norm: str  # folded and singular
    used: bool = False


def _places(tokens: list[_Token]) -> tuple[list[str], list[str], list[str], list[str]]:
    table = lexicon()
    longest = min(max(len(k) for k in table), 8)
    codes: list[str] = []
    states: list[str] = []
    cities: list[str] = []
    labels: list[str] = []
    i = 0
    while i < len(tokens):
        hit = None
        for size in range(min(longest, len(tokens) - i), 0, -1):
            window = tokens[i : i + size]
            if any(t.used for t in window):
                continue
            key = tuple(t.norm for t in window)
            place = table.get(key)
            if place is None:
                continue
            if " ".join(key) in CASE_SENSITIVE and not all(t.raw.isupper() for t in window):
                continue
            if " ".join(key) in CAPITALISED_ONLY and not window[0].raw[:1].isupper():
                continue
            hit = (size, place)
            break
        if hit is None:
            i += 1
            continue
        size, place = hit
        for t in tokens[i : i + size]:
            t.used = True
        codes.extend(c for c in place.countries if c not in codes)
        # A city is asked at its own level: San Francisco's state is context, not a second place to accept.
        if not place.cities:
            states.extend(s for s in place.states if s not in states)
        cities.extend(c for c in place.cities if c not in cities)
        label = place.label or next(iter(place.cities), None) or next(iter(place.states), None)
        label = label or country_name(place.countries[0])
        if label not in labels:
            labels.append(label)
        i += size
    return codes, states, cities, labels


# Words that join alternatives ("automobile and auto parts manufacturers": either kind is wanted).
_CONJUNCTIONS = frozenset({"and", "or", "plus", "nor"})
# Words that hand a product to its buyer or use ("payroll software for small businesses").
_BUYER_CUES = frozenset({"for", "serving", "targeting", "helping"})
# Product heads that name the topic themselves when nothing else does ("German software companies").
_TOPICAL_HEADS = frozenset({"software", "saas", "app"})


@dataclass
class _Side:
    """One side of "X for Y": runs of adjacent topic words, with conjunctions grouping runs as alternatives."""

    groups: list[list[list[str]]]  # groups (AND) of alternatives (OR), each a run of words or phrases
    heads: list[str]  # product heads seen ("software", "tool")
    joined: bool = False  # the last break was a conjunction: the next run is an alternative

    def add(self, item: str) -> None:
        if self.joined and self.groups:
            self.groups[-1].append([item])
        elif self.groups and self.groups[-1] and self.groups[-1][-1] and not self._closed:
            self.groups[-1][-1].append(item)
        else:
            self.groups.append([[item]])
        self.joined = False
        self._closed = False

    def close(self, conjunction: bool = False) -> None:
        self._closed = True
        self.joined = conjunction and bool(self.groups)

    _closed: bool = True


def _known(term: str) -> bool:
    return " " in term or tuple(term.split()) in SYNONYMS


def _run_topics(run: list[str], alternative: bool) -> list[str]:
    """A run of adjacent topic words: known terms stay separate topics ("B2B payments": both), an unknown
    run is one phrase ("industrial robots": robots that are industrial, not anything in "Industrials")."""
    if len(run) == 1 or (not alternative and all(_known(term) for term in run)):
        return run
    return [" ".join(run)]


def _side_topics(side: _Side) -> list[str]:
    topics: list[str] = []
    for group in side.groups:
        if len(group) == 1:
            for term in _run_topics(group[0], alternative=False):
                _add_topic(topics, term)
        else:
            alternatives = list(dict.fromkeys(t for run in group for t in _run_topics(run, alternative=True)))
            _add_topic(topics, ALTERNATIVE_SEP.join(alternatives))
    return topics


def _topics(tokens: list[_Token], text: str) -> tuple[list[str], list[_Token]]:
    """The topic: known phrases kept whole, head nouns ("companies", "contractors") dropped, runs joined by
    "and"/"or" read as alternatives, and what follows "for" read as the buyer of what precedes it."""
    product, buyer = _Side([], []), _Side([], [])
    side = product
    kept: list[_Token] = []
    i = 0
    previous_end: int | None = None
    while i < len(tokens):
        token = tokens[i]
        if previous_end is not None and "," in text[previous_end : token.start]:
            side.close(conjunction=True)
        previous_end = token.end
        if token.used:
            side.close()
            i += 1
            continue
        phrase_len = 0
        for size in range(min(MAX_PHRASE, len(tokens) - i), 1, -1):
            window = tokens[i : i + size]
            if not any(t.used for t in window) and tuple(t.norm for t in window) in PHRASES:
                phrase_len = size
                break
        if phrase_len:
            window = tokens[i : i + phrase_len]
            side.add(" ".join(t.norm for t in window))
            kept.extend(window)
            previous_end = window[-1].end
            i += phrase_len
            continue
        norm = token.norm
        if norm in _BUYER_CUES and side is product and (product.groups or product.heads):
            side.close()
            side = buyer
        elif norm in _CONJUNCTIONS:
            side.close(conjunction=True)
        elif norm in PRODUCT_HEADS:
            side.heads.append(norm)
            side.close()
            kept.append(token)
        elif norm in STOPWORDS or norm in GENERIC_NOUNS or norm.isdigit() or len(norm) < 2:
            side.close()
        else:
            side.add(norm)
            kept.append(token)
        i += 1
    topics = _side_topics(product)
    wanted = [f"{BUYER_PREFIX}{t}" if ALTERNATIVE_SEP not in t else ALTERNATIVE_SEP.join(
        BUYER_PREFIX + a for a in t.split(ALTERNATIVE_SEP)) for t in _side_topics(buyer)]
    if not topics:
        heads = [h for h in product.heads if h in _TOPICAL_HEADS]
        if wanted and product.heads:
            topics = [SOFTWARE_PRODUCT]
        elif heads and not wanted:
            topics = [heads[0]]
    return topics + wanted, kept


def _add_topic(topics: list[str], term: str) -> None:
    # "banks and banking" is one topic: drop a term that is a known synonym of one already kept.
    for existing in topics:
        if term == existing or tuple(term.split()) in SYNONYMS.get(tuple(existing.split()), ()):
            return
    topics.append(term)


def topic_terms(topic: str) -> tuple[str, ...]:
    """The plain terms of a topic: its alternatives, without the buyer marker."""
    return tuple(a.removeprefix(BUYER_PREFIX) for a in topic.split(ALTERNATIVE_SEP))


def _search_terms(topics: list[str], kept: list[_Token], reference: str | None) -> tuple[str, ...]:
    # Every topic's own words first, then their synonyms: the list is cut at 16, and a second topic's own
    # word matters more to an OR search than the fifth synonym of the first.
    spelled = {t.norm: fold(t.raw) for t in kept}
    products = [t for t in topics if not t.startswith(BUYER_PREFIX) and t != SOFTWARE_PRODUCT]
    buyers = [term for t in topics if t.startswith(BUYER_PREFIX) for term in topic_terms(t)]
    # Beside a product the buyer's words come after the product's, so they cannot crowd them out of the cut.
    extra = [t for b in buyers for t in (b, *synonyms(b))] if products else []
    plain = [term for topic in (products or topics) if topic != SOFTWARE_PRODUCT for term in topic_terms(topic)]
    # An unknown phrase is searched word by word too ("gold miners" → gold, miner): the grader decides.
    plain += [w for term in plain if " " in term and term.count(" ") == len(term.split()) - 1
              and tuple(term.split()) not in SYNONYMS for w in term.split() if w not in STOPWORDS]
    if not plain and SOFTWARE_PRODUCT in topics:
        plain = ["software"]
    terms: list[str] = []
    for term in (*plain, *(spelled.get(t, t) for t in plain)):
        if term not in terms:
            terms.append(term)
    for term in plain:
        terms.extend(s for s in synonyms(term) if s not in terms)
    terms = terms[:12]
    terms.extend(t for t in dict.fromkeys(extra) if t not in terms)
    if reference:
        # A company named as the reference is searched too: descriptions that name it are often its peers'
        # ("Stripe for Africa"); the lookalike ranker does the rest.
        terms.insert(min(len(terms), 8), fold(reference))
    return tuple(terms[:16])


@lru_cache(maxsize=4096)
def parse_query(text: str) -> ParsedQuery:
    """Read a query (or a criterion's text) into structured constraints; never raises."""
    taken: list[tuple[int, int]] = []
    reference = read_reference(text, taken)
    qualifiers = read_qualifiers(text, taken)
    founded_after, founded_before = read_founding(text, taken)
    min_employees, max_employees = read_size(text, taken)
    if min_employees is not None or max_employees is not None:
        # A size stated outright ("startups with fewer than 10 people") says more than the head noun.
        qualifiers = tuple(q for q in qualifiers if q != STARTUP)
    statuses = read_statuses(text, taken)
    tokens = [_Token(m.start(), m.end(), m.group(0), singular(fold(m.group(0)).strip())) for m in _TOKEN.finditer(text)]
    for token in tokens:
        token.used = overlaps((token.start, token.end), taken) or not token.norm
    codes, states, cities, places = _places(tokens)
    topics, kept = _topics(tokens, text)
    focus = None
    if kept:
        focus = " ".join(text[kept[0].start : kept[-1].end].split())
    constraints = Constraints(
        countries=tuple(country_name(c) for c in codes),
        cities=tuple(cities),
        states=tuple(states),
        topics=tuple(topics),
        min_employees=min_employees,
        max_employees=max_employees,
        founded_after=founded_after,
        founded_before=founded_before,
        statuses=statuses,
    )
    return ParsedQuery(
        text=text,
        constraints=constraints,
        search_terms=_search_terms(topics, kept, reference),
        focus=focus,
        places=tuple(places),
        reference=reference,
        qualifiers=qualifiers,
    )
