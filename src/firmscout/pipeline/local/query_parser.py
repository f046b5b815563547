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
    ALTERNATIVE_SEP,
    BUYER_PREFIX,
    GENERIC_NOUNS,
    MAX_PHRASE,
    PHRASES,
    PRODUCT_HEADS,
    QUALIFIERS,
    SOFTWARE_PRODUCT,
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
            before, after = text[: match.start()], text[match.end() :]
            if _CUSTOMER_CUE.search(before) or _NOT_SIZE_NEXT.match(after):
                continue  # left to the topic: "small businesses" are who buys
            taken.append(match.span())
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


# "competitors of Stripe", "alternatives to notion.so", "companies like Airbnb", "Stripe competitors".
_REF_STOP = (r"(?:in|from|based|with|that|which|who|founded|established|for|and|or|near|outside|across|headquartered|"
             r"located|but|having|of|to|within|operating|serving|over|under|than|since|before|after)")
_REF_NAME = rf"(?P<ref>[\w.&'-]*\w(?:\s+(?!{_REF_STOP}\b)[\w.&'-]*\w){{0,3}})"
_RELATION = r"(?:competitors?|competition|alternatives?|rivals?|peers?|look[- ]?alikes?|clones?|equivalents?)"
_REFERENCE_PATTERNS = (
    re.compile(rf"\b{_RELATION}\s+(?:of|to|for)\s+{_REF_NAME}", re.I),
    re.compile(rf"\b(?:(?:very\s+)?similar\s+to|comparable\s+to|like|such\s+as|in\s+the\s+mold\s+of)\s+{_REF_NAME}",
               re.I),
    re.compile(rf"(?P<ref>\b[A-Z0-9][\w.&'-]*(?:\s+[A-Z0-9][\w.&'-]*){{0,2}}|\b[\w-]+\.[a-z]{{2,}})(?:'s)?\s+"
               rf"{_RELATION}\b"),
    re.compile(rf"^\s*(?P<ref>[\w.&'-]+)(?:'s)?\s+{_RELATION}\b", re.I),
)
_NOT_REFERENCES = frozenset({"us", "we", "me", "mine", "ours", "them", "this", "these", "those", "that", "it", "the",
                             "a", "an", "other", "others", "its", "our", "their"})


def _reference(text: str, taken: list[tuple[int, int]]) -> str | None:
    for pattern in _REFERENCE_PATTERNS:
        for match in pattern.finditer(text):
            name = match.group("ref").strip(" .,'-")
            if not name or fold(name.split()[0]) in _NOT_REFERENCES or _overlaps(match.span(), taken):
                continue
            taken.append(match.span())
            return name
    return None


def _qualifiers(text: str, taken: list[tuple[int, int]]) -> tuple[str, ...]:
    found: list[str] = []
    for qualifier in QUALIFIERS:
        for match in qualifier.query.finditer(text):
            if _overlaps(match.span(), taken):
                continue
            taken.append(match.span())
            if qualifier.name not in found:
                found.append(qualifier.name)
    return tuple(found)


@lru_cache(maxsize=4096)
def parse_query(text: str) -> ParsedQuery:
    """Read a query (or a criterion's text) into structured constraints; never raises."""
    taken: list[tuple[int, int]] = []
    reference = _reference(text, taken)
    qualifiers = _qualifiers(text, taken)
    founded_after, founded_before = _founding(text, taken)
    min_employees, max_employees = _size(text, taken)
    statuses = _statuses(text, taken)
    tokens = [_Token(m.start(), m.end(), m.group(0), singular(fold(m.group(0)).strip())) for m in _TOKEN.finditer(text)]
    for token in tokens:
        token.used = _overlaps((token.start, token.end), taken) or not token.norm
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
