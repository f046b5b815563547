"""Pure cleaners for messy company fields: employee counts, founding years, places, countries, lists."""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from firmscout import geography
from firmscout.domains import registered_domain

EARLIEST_FOUNDED_YEAR = 1600
_EMPTY = {"", "nan", "none", "null", "n/a", "na", "-", "[]"}
_EMPTY_MAX_LEN = max(map(len, _EMPTY))

_THOUSANDS = r"\d{1,3}(?:[,.\u00a0\u202f ]\d{3})+(?!\d)"
_NUMBER = re.compile(rf"{_THOUSANDS}|\d+")
_SCALED = re.compile(r"(\d+(?:[.,]\d+)?)\s*(million|mio|mn|thousand|k)\b", re.IGNORECASE)
_SCALE = {"million": 1_000_000, "mio": 1_000_000, "mn": 1_000_000, "thousand": 1_000, "k": 1_000}
_YEAR = re.compile(r"(?<!\d)(1[6-9]\d\d|20\d\d)(?!\d)")
# A parenthesised qualifier followed by another place: "X , U.S. (operational) Geneva , Switzerland (legal)".
_SECOND_PLACE = re.compile(r"\([^)]*\)\s*[^\W\d_]")
_PARENS = re.compile(r"\([^)]*\)")
_MAX_CITY_WORDS = 5


@dataclass(frozen=True)
class Location:
    city: str | None = None
    state: str | None = None
    country: str | None = None


def clean_text(value: object) -> str | None:
    """Whitespace-collapsed text, or None for blanks and the placeholders exporters write for missing."""
    if value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN from pandas-made files
        return None
    text = " ".join(str(value).split())
    # Lower-casing a long description only to compare it with short placeholders is wasted work.
    return None if len(text) <= _EMPTY_MAX_LEN and text.lower() in _EMPTY else text


def parse_int(value: object) -> int | None:
    """Integers written any way a spreadsheet does: 2024, "2024", "2024.0", "2,024"."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value == value else None
    text = clean_text(value)
    if text is None:
        return None
    try:
        return int(float(text.replace(",", "")))
    except (ValueError, OverflowError):
        return None


def parse_employees(value: object) -> int | None:
    """Headcount from text such as "3,167 (average, 2021)", "c.250 (2024)", "1.2 million", "14.046"."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = parse_int(value)
        return number if number and number > 0 else None
    text = clean_text(value)
    if text is None:
        return None
    scaled = _SCALED.search(text)
    if scaled:
        amount = float(scaled.group(1).replace(",", "."))
        return int(amount * _SCALE[scaled.group(2).lower()]) or None
    # The first number is the headcount; later ones are years, ranges' upper ends or sub-totals.
    match = _NUMBER.search(_strip_leading_year(text))
    if not match:
        return None
    number = int(re.sub(r"\D", "", match.group(0)))
    return number or None


def _strip_leading_year(text: str) -> str:
    # "(2024) 5,000" style: a parenthesised date before the count must not be read as the count.
    return re.sub(r"^\s*\([^)]*\)\s*", "", text)


def parse_founded_year(value: object, *, this_year: int | None = None) -> int | None:
    """Founding year from 1988, "2024.0", "1988 ; 38 years ago ( 1988 )", "May 1, 1951 ; ...", "c. 1865"."""
    latest = this_year or datetime.now(UTC).year
    if isinstance(value, int | float) and not isinstance(value, bool):
        year = parse_int(value)
        return year if year and EARLIEST_FOUNDED_YEAR <= year <= latest else None
    text = clean_text(value)
    if text is None:
        return None
    for match in _YEAR.finditer(text):
        year = int(match.group(1))
        if EARLIEST_FOUNDED_YEAR <= year <= latest:
            return year
    return None


def country_name(value: object) -> str | None:
    """The English short name for a country name, alias or ISO code; None if not a country."""
    text = clean_text(value)
    if text is None:
        return None
    key = text.lower().replace(".", "").strip()
    key = key.removeprefix("the ") if key not in geography.COUNTRY_ALIASES else key
    # Stored names must be exactly the ones the query parser produces ("South Korea", not pycountry's
    # "Korea, Republic of"), because sources filter on them by equality.
    code = geography.lookup_country(key)
    return geography.country_name(code) if code else None


def normalize_country(value: object) -> str | None:
    """Like `country_name`, but keeps unrecognised text (cleaned) rather than dropping a fact."""
    text = clean_text(value)
    if text is None:
        return None
    return country_name(text) or text


def _plausible_city(part: str | None) -> str | None:
    if not part:
        return None
    # "Bilbao and Madrid": two head offices; the first is the registered one in Wikipedia's convention.
    city = re.split(r"\s+and\s+|\s*/\s*|\s*;\s*", part)[0].strip(" .")
    if not city or len(city.split()) > _MAX_CITY_WORDS or any(c.isdigit() for c in city):
        return None
    return city


def parse_location(value: object) -> Location:
    """A place written as text → city, state, country.

    Handles "Montabaur , Germany", "London , England, UK", "Houston, Texas" (a US state: the country
    is the United States), "Marunouchi , Chiyoda , Tokyo, Japan" (the city is the part before the
    country) and several head offices with qualifiers (the first place wins).
    """
    text = clean_text(value)
    if text is None:
        return Location()
    second = _SECOND_PLACE.search(text)
    if second:
        text = text[: second.start()]
    text = _PARENS.sub(" ", text)
    parts = [p.strip(" .;") for p in text.split(",")]
    parts = [p for p in parts if p]
    if not parts:
        return Location()
    country: str | None = None
    state: str | None = None
    # "Atlanta, Georgia" means the US state, not the country: a state name after a city wins.
    found_state = geography.find_state(parts[-1]) if len(parts) > 1 else None
    if found_state:
        country, state = found_state
        parts = parts[:-1]
    else:
        country = country_name(parts[-1])
        if country:
            parts = parts[:-1]
            # "London , England, UK": the constituent country is not a city.
            while parts and country_name(parts[-1]) == country:
                parts = parts[:-1]
            if parts and (found := geography.find_state(parts[-1])) and found[0] == country:
                state = found[1]
                parts = parts[:-1]
    city = _plausible_city(parts[-1]) if parts else None
    return Location(city=city, state=state, country=country)


def location_from_country_field(value: object) -> Location:
    """A "country" cell that may really be "City, State" (pytickersymbols: "Houston, Texas")."""
    text = clean_text(value)
    if text is None:
        return Location()
    if "," not in text:
        return Location(country=normalize_country(text))
    return parse_location(text)


def parse_list(value: object) -> tuple[str, ...]:
    """List cells: Python or JSON list literals, ";"/"|"-separated text, or one plain value; deduplicated."""
    items: list[object]
    if value is None:
        items = []
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        text = str(value).strip()
        parsed = _literal_list(text) if text.startswith("[") else None
        items = list(parsed) if parsed is not None else re.split(r"\s*[;|]\s*", text)
    seen: dict[str, None] = {}
    for item in items:
        cleaned = clean_text(item)
        if cleaned:
            seen.setdefault(cleaned, None)
    return tuple(seen)


def _literal_list(text: str) -> list[object] | None:
    for parse in (json.loads, ast.literal_eval):
        try:
            parsed = parse(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
        if isinstance(parsed, list):
            return parsed
    return None


def _is_bare_scheme(word: str) -> bool:
    return not word.split("://", 1)[-1].strip("/")


def website_and_domain(value: object) -> tuple[str | None, str | None]:
    """The first website in a cell and its registered domain: (None, None) if there is none.

    Cells hold residue such as "https://" alone, "a.com, http://b.com", "www.agc.com /english /",
    "bmwgroup.com (corporate) bmw.com (brand)" or "Official website"; the first domain-like word wins.
    A bare domain gets "https://" so the website is a URL.
    """
    text = clean_text(value)
    if text is None:
        return None, None
    for word in re.split(r"[\s,;|]+", text):
        if not word or _is_bare_scheme(word):
            continue
        domain = registered_domain(word)
        if domain is not None:
            return (word if "://" in word else f"https://{word}"), domain
    return None, None


def state_name(value: object, country: str | None) -> str | None:
    """A state as text; US/Canadian/Australian codes and names are spelled out ("NY" → "New York")."""
    text = clean_text(value)
    if text is None:
        return None
    found = geography.find_state(text)
    if found and found[0] == country:
        return found[1]
    return geography.subdivision_name(country, text) or text
