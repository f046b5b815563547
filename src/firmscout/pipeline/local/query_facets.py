"""The facets of a query read before its topic: company size, founding year, status and qualifiers.

They contain numbers and words ("over", "public", "hiring") that would otherwise look like topics, so the
parser reads them first; each reader records the character spans it used in `taken`, and the topic
reader skips those.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from firmscout.entities import EMPLOYEE_BUCKETS
from firmscout.pipeline.local.vocabulary import QUALIFIERS

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


def _claim(pattern: re.Pattern[str], text: str, taken: list[tuple[int, int]]) -> Iterator[re.Match[str]]:
    """The matches of `pattern` no earlier reader used, each marked used as it is yielded."""
    for match in pattern.finditer(text):
        if not overlaps(match.span(), taken):
            taken.append(match.span())
            yield match


def overlaps(span: tuple[int, int], taken: Iterable[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in taken)


def _bucket_bounds(n: int) -> tuple[int | None, int | None]:
    for _, low, high in EMPLOYEE_BUCKETS:
        if n >= low and (high is None or n <= high):
            return low, high
    return None, None


def read_size(text: str, taken: list[tuple[int, int]]) -> tuple[int | None, int | None]:
    lows: list[int] = []
    highs: list[int] = []
    for pattern, kind in _SIZE_PATTERNS:
        for match in _claim(pattern, text, taken):
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
            if overlaps(match.span(), taken):
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


def read_founding(text: str, taken: list[tuple[int, int]]) -> tuple[int | None, int | None]:
    after: int | None = None
    before: int | None = None
    for pattern, kind in _YEAR_PATTERNS:
        for match in _claim(pattern, text, taken):
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


def read_statuses(text: str, taken: list[tuple[int, int]]) -> tuple[str, ...]:
    found: list[str] = []
    for pattern, status in _STATUS_PATTERNS:
        for _ in _claim(pattern, text, taken):
            if status not in found:
                found.append(status)
    return tuple(found)


def read_qualifiers(text: str, taken: list[tuple[int, int]]) -> tuple[str, ...]:
    found: list[str] = []
    for qualifier in QUALIFIERS:
        for _ in _claim(qualifier.query, text, taken):
            if qualifier.name not in found:
                found.append(qualifier.name)
    return tuple(found)


