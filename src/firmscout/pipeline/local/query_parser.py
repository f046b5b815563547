"""Rule-based reading of a discovery query: geography, topic, company size and founding year.

The parser marks the text it understood as size and founding-year phrases first (they contain
numbers and words such as "over" that would otherwise look like topics), then places, and keeps what
is left, minus stopwords, as the topic.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from firmscout.entities import EMPLOYEE_BUCKETS, Constraints
from firmscout.geography import CASE_SENSITIVE, country_name, lexicon
from firmscout.pipeline.local.vocabulary import (
    GENERIC_NOUNS,
    MAX_PHRASE,
    PHRASES,
    STOPWORDS,
    SYNONYMS,
    fold,
    singular,
    synonyms,
)

_NUM = r"(\d{1,3}(?:[,.]\d{3})+|\d+(?:\.\d+)?\s*[km]?)"
_PEOPLE = (
    r"(?:full[- ]time\s+)?(?:employees?|staff(?:ers)?|people|persons|workers|headcount|"
    r"team\s+members|ftes?|(?:person|people|member)\s+teams?)\b"
)
_YEAR = r"(1[0-9]{3}|20[0-9]{2})"
_FOUND = r"\b(?:founded|established|est\.?|incorporated|started|formed|created|launched|set\s+up)"
_BUCKET = "|".join(
    re.escape(label) if high is not None else rf"{low:,}\+|{low}\+" for label, low, high in EMPLOYEE_BUCKETS
)

# (pattern, kind): kind names how the numbers bound the employee count.
_SIZE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p, re.IGNORECASE), kind)
    for p, kind in (
        (rf"\bbetween\s+{_NUM}\s+(?:and|to|-)\s+{_NUM}\s+{_PEOPLE}", "between"),
        (rf"\b{_NUM}\s*(?:-|–|to)\s*{_NUM}\s+{_PEOPLE}", "between"),
        (rf"(?:\b(?:more|greater)\s+than|\bover|\babove|\bin\s+excess\s+of|>)\s*{_NUM}\s*\+?\s*{_PEOPLE}", "gt"),
        (rf"(?:\bat\s+least|\bminimum(?:\s+of)?|\bmin\.?|>=)\s*{_NUM}\s*{_PEOPLE}", "ge"),
        (rf"\b{_NUM}\s*(?:\+|or\s+more|and\s+(?:more|above|up))\s*{_PEOPLE}", "ge"),
        (rf"(?:\b(?:fewer|less)\s+than|\bunder|\bbelow|<)\s*{_NUM}\s*{_PEOPLE}", "lt"),
        (rf"(?:\bat\s+most|\bup\s+to|\bno\s+more\s+than|\bmaximum(?:\s+of)?|\bmax\.?|<=)\s*{_NUM}\s*{_PEOPLE}", "le"),
        (rf"\b{_NUM}\s*(?:or\s+(?:fewer|less))\s*{_PEOPLE}", "le"),
        (rf"(?<![\w-])(?:{_BUCKET})(?![\w-])(?:\s+{_PEOPLE})?", "bucket"),
        (rf"\b(?:about|around|roughly|approximately|~)?\s*{_NUM}\s+{_PEOPLE}", "about"),
    )
)

# Size adjectives; bounds follow the spec's buckets: small = up to 50, mid-sized = 51-1000, large > 1000.
_ADJECTIVES: tuple[tuple[re.Pattern[str], int | None, int | None], ...] = tuple(
    (re.compile(p, re.IGNORECASE), low, high)
    for p, low, high in (
        (r"\b(?:tiny|micro)\b", None, 10),
        (r"\bsmall(?:er)?(?:[- ]sized?)?\b", None, 50),
        (r"\b(?:mid|medium)[- ]?(?:sized?|size)\b|\bmidsized?\b", 51, 1000),
        (r"\b(?:large|larger|big|huge)(?:[- ]sized?)?\b", 1001, None),
        (r"\bstart[- ]?ups?\b", None, 200),
    )
)
# "software for small businesses" describes the customers, not the company; "large language models"
# is a topic.
_CUSTOMER_CUE = re.compile(r"\b(?:for|serving|to|targeting|helping|help|supporting)\s+(?:\w+\s+)?$", re.I)
_NOT_SIZE_NEXT = re.compile(r"^[\s-]*(?:language|scale|data|cap|caps|print|format|models?|molecules?)\b", re.I)

_YEAR_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(_FOUND + p, re.IGNORECASE), kind)
    for p, kind in (
        (r"\s+(?:in\s+)?(?:the\s+)?((?:1[0-9]|20)[0-9]0)'?s\b", "decade"),
        (rf"\s+(?:in\s+)?between\s+{_YEAR}\s+(?:and|-|to)\s+{_YEAR}", "between"),
        (rf"\s+(?:in\s+|from\s+)?{_YEAR}\s*(?:-|–|to)\s*{_YEAR}", "between"),
        (rf"\s+(?:in\s+)?{_YEAR}\s+or\s+(?:earlier|before)", "le"),
        (rf"\s+(?:in\s+)?{_YEAR}\s+or\s+(?:later|after|since)", "ge"),
        (rf"\s+in\s+or\s+(?:before|earlier\s+than)\s+{_YEAR}", "le"),
        (rf"\s+in\s+or\s+(?:after|since)\s+{_YEAR}", "ge"),
        (rf"\s+(?:before|prior\s+to|earlier\s+than|pre)\s+{_YEAR}", "lt"),
        (rf"\s+(?:until|by|no\s+later\s+than)\s+{_YEAR}", "le"),
        (rf"\s+(?:after|later\s+than|post)\s+{_YEAR}", "gt"),
        (rf"\s+(?:since|from|in\s+or\s+after|starting\s+in|no\s+earlier\s+than)\s+{_YEAR}", "ge"),
        (rf"\s+(?:in\s+)?{_YEAR}\b", "eq"),
    )
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


@dataclass
class _Token:
    start: int
    end: int
    raw: str
    norm: str  # folded and singular
    used: bool = False


def _number(text: str) -> int:
    text = text.strip().lower().replace(" ", "")
    scale = 1
    if text.endswith("k"):
        scale, text = 1000, text[:-1]
    elif text.endswith("m"):
        scale, text = 1_000_000, text[:-1]
    if re.fullmatch(r"\d{1,3}(?:[,.]\d{3})+", text):
        return int(re.sub(r"[,.]", "", text)) * scale
    return int(float(text) * scale)


def _overlaps(span: tuple[int, int], taken: Iterable[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in taken)


def _bucket_bounds(n: int) -> tuple[int | None, int | None]:
    for _, low, high in EMPLOYEE_BUCKETS:
        if n >= low and (high is None or n <= high):
            return low, high
    return None, None


def _size(text: str, taken: list[tuple[int, int]]) -> tuple[int | None, int | None]:
    lows: list[int] = []
    highs: list[int] = []
    for pattern, kind in _SIZE_PATTERNS:
        for match in pattern.finditer(text):
            if _overlaps(match.span(), taken):
                continue
            taken.append(match.span())
            nums = [_number(g) for g in match.groups() if g]
            low: int | None
            high: int | None
            if kind == "between" and len(nums) == 2:
                low, high = min(nums), max(nums)
            elif kind == "bucket":
                label = re.match(r"[\d,]+\+?(?:-\d+)?", match.group(0))
                low, high = _label_bounds(label.group(0) if label else "")
            elif kind in ("gt", "ge"):
                low, high = nums[0] + (1 if kind == "gt" else 0), None
            elif kind in ("lt", "le"):
                low, high = None, max(nums[0] - (1 if kind == "lt" else 0), 1)
            else:
                low, high = _bucket_bounds(nums[0])
            if low is not None:
                lows.append(low)
            if high is not None:
                highs.append(high)
    for pattern, adj_low, adj_high in _ADJECTIVES:
        for match in pattern.finditer(text):
            if _overlaps(match.span(), taken):
                continue
            taken.append(match.span())
            before, after = text[: match.start()], text[match.end() :]
            if _CUSTOMER_CUE.search(before) or _NOT_SIZE_NEXT.match(after):
                continue
            if adj_low is not None:
                lows.append(adj_low)
            if adj_high is not None:
                highs.append(adj_high)
    return (max(lows) if lows else None), (min(highs) if highs else None)


def _label_bounds(label: str) -> tuple[int | None, int | None]:
    label = label.replace(",", "")
    if label.endswith("+"):
        return int(label[:-1]), None
    low, _, high = label.partition("-")
    return int(low), int(high)


def _founding(text: str, taken: list[tuple[int, int]]) -> tuple[int | None, int | None]:
    after: int | None = None
    before: int | None = None
    for pattern, kind in _YEAR_PATTERNS:
        for match in pattern.finditer(text):
            if _overlaps(match.span(), taken):
                continue
            taken.append(match.span())
            years = [int(g) for g in match.groups() if g]
            if kind == "decade":
                low, high = years[0], years[0] + 9
            elif kind == "between":
                low, high = min(years), max(years)
            elif kind == "eq":
                low, high = years[0], years[0]
            elif kind in ("lt", "le"):
                low, high = None, years[0] - (1 if kind == "lt" else 0)
            else:
                low, high = years[0] + (1 if kind == "gt" else 0), None
            if low is not None:
                after = low if after is None else max(after, low)
            if high is not None:
                before = high if before is None else min(before, high)
    return after, before


# Company status words. "public"/"listed" count only next to a company noun or as "publicly traded",
# so "public sector software" stays a topic.
_STATUS_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(?:were |been |got )?acquired\b", re.I), "acquired"),
    (re.compile(r"\bpublicly[- ](?:traded|listed)\b|\b(?:public|listed)(?= (?:compan|firm|corporat|startup))", re.I),
     "public"),
    (re.compile(r"\b(?:inactive|defunct|shut[- ]down|dead)\b", re.I), "inactive"),
    (re.compile(r"\b(?:still active|active)(?= (?:compan|firm|startup))", re.I), "active"),
)


def _statuses(text: str, taken: list[tuple[int, int]]) -> tuple[str, ...]:
    found: list[str] = []
    for pattern, status in _STATUS_PATTERNS:
        for match in pattern.finditer(text):
            if _overlaps(match.span(), taken):
                continue
            taken.append(match.span())
            if status not in found:
                found.append(status)
    return tuple(found)


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
            hit = (size, place)
            break
        if hit is None:
            i += 1
            continue
        size, place = hit
        for t in tokens[i : i + size]:
            t.used = True
        codes.extend(c for c in place.countries if c not in codes)
        states.extend(s for s in place.states if s not in states)
        cities.extend(c for c in place.cities if c not in cities)
        label = place.label or next(iter(place.cities), None) or next(iter(place.states), None)
        label = label or country_name(place.countries[0])
        if label not in labels:
            labels.append(label)
        i += size
    return codes, states, cities, labels


def _topics(tokens: list[_Token]) -> tuple[list[str], list[_Token]]:
    topics: list[str] = []
    kept: list[_Token] = []
    i = 0
    while i < len(tokens):
        if tokens[i].used:
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
            _add_topic(topics, " ".join(t.norm for t in window))
            kept.extend(window)
            i += phrase_len
            continue
        token = tokens[i]
        norm = token.norm
        if not (norm in STOPWORDS or norm in GENERIC_NOUNS or norm.isdigit() or len(norm) < 2):
            _add_topic(topics, norm)
            kept.append(token)
        i += 1
    return topics, kept


def _add_topic(topics: list[str], term: str) -> None:
    # "banks and banking" is one topic: drop a term that is a known synonym of one already kept.
    for existing in topics:
        if term == existing or tuple(term.split()) in SYNONYMS.get(tuple(existing.split()), ()):
            return
    topics.append(term)


def _search_terms(topics: list[str], kept: list[_Token]) -> tuple[str, ...]:
    spelled = {t.norm: fold(t.raw) for t in kept}
    terms: list[str] = []
    for topic in topics:
        for term in (topic, spelled.get(topic, topic), *synonyms(topic)):
            if term not in terms:
                terms.append(term)
    return tuple(terms[:16])


@lru_cache(maxsize=4096)
def parse_query(text: str) -> ParsedQuery:
    """Read a query (or a criterion's text) into structured constraints; never raises."""
    taken: list[tuple[int, int]] = []
    founded_after, founded_before = _founding(text, taken)
    min_employees, max_employees = _size(text, taken)
    statuses = _statuses(text, taken)
    tokens = [_Token(m.start(), m.end(), m.group(0), singular(fold(m.group(0)).strip())) for m in _TOKEN.finditer(text)]
    for token in tokens:
        token.used = _overlaps((token.start, token.end), taken) or not token.norm
    codes, states, cities, places = _places(tokens)
    topics, kept = _topics(tokens)
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
        search_terms=_search_terms(topics, kept),
        focus=focus,
        places=tuple(places),
    )
