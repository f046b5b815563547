"""Structured checks: headquarters location, employee count and founding year against a requirement.

Each returns a `Check` (grade 1-5 plus a sentence citing the profile field). The scale is shared:
5 clear match, 3 near miss (or a weaker kind of evidence), 2 data missing, 1 clear miss.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from firmscout.entities import CompanyProfile, Constraints
from firmscout.geography import country_code, country_name, lexicon, same_place
from firmscout.pipeline.local.vocabulary import Qualifier, words

# A headcount within 20% of a bound, or a founding year within 3 years, is a near miss: company
# databases round headcounts and disagree on founding dates (merger vs. original firm) by that much.
NEAR_EMPLOYEES = 0.2
NEAR_YEARS = 3


@dataclass(frozen=True)
class Check:
    grade: int
    explanation: str
    # Pages the evidence is on, when narrower than the profile's sources (a website page it quotes).
    sources: tuple[str, ...] = ()


def cite(profile: CompanyProfile) -> str:
    """Where the profile's facts come from, for explanations: "(company profile: en.wikipedia.org)"."""
    hosts: list[str] = []
    for url in profile.sources:
        host = urlsplit(url if "//" in url else f"//{url}").hostname or url
        host = host.removeprefix("www.")
        if host not in hosts:
            hosts.append(host)
    return f"(company profile: {', '.join(hosts[:3])})" if hosts else "(company profile)"


def _names(values: tuple[str, ...]) -> str:
    if len(values) <= 4:
        return " or ".join(values)
    return f"{', '.join(values[:3])} or one of {len(values) - 3} other places"


def _profile_country(profile: CompanyProfile) -> str | None:
    """Alpha-2 of the profile's HQ country; tolerates "Houston, Texas" style values in the country field."""
    for value in (profile.country, profile.state):
        if not value:
            continue
        code = country_code(value)
        if code is None and "," in value:
            place = lexicon().get(words(value.rsplit(",", 1)[1]))
            code = place.countries[0] if place and len(place.countries) == 1 else None
        if code is None and value is profile.state:
            place = lexicon().get(words(value))
            code = "US" if place and place.states else None
        if code:
            return code
    return None


def _finer_countries(req: Constraints) -> set[str]:
    codes: set[str] = set()
    for name in (*req.cities, *req.states):
        place = lexicon().get(words(name))
        if place is not None:
            codes.update(place.countries)
        else:
            codes.add("US")
    return codes


def _same_city(have: str, want: str) -> bool:
    """Loosely the same city: equal names, one name extending the other ("Tel Aviv-Yafo", "Frankfurt am
    Main"), or two spellings the place table files as one city ("Bengaluru", "Bangalore")."""
    if same_place(have, want):
        return True
    h, w = words(have), words(want)
    if h[: len(w)] == w or w[: len(h)] == h:
        return True
    places = lexicon().get(h), lexicon().get(w)
    return bool(places[0] and places[1] and places[0].cities and places[0].cities == places[1].cities)


def _state_of(profile: CompanyProfile, states: tuple[str, ...]) -> str | None:
    """The requested state a profile's city lies in, when only the city is recorded (directories list
    "New York" or "San Francisco" without a state)."""
    assert profile.city
    place = lexicon().get(words(profile.city))
    candidates = (*(place.states if place else ()), profile.city)
    return next((s for s in states for c in candidates if same_place(c, s)), None)


# "Milan, Italy": a place name, a comma, another (each up to three capitalised words).
_PLACE_PAIR = re.compile(r"((?:[A-Z][\w'-]*\s){0,3}[A-Z][\w'-]*),\s+((?:[A-Z][\w'-]*\s){0,2}[A-Z][\w'-]*)")
_SEATED_IN = re.compile(r"\b(?i:headquartered|based|located|headquarters (?:is |are )?)\s*in\s+(?:the\s+)?"
                        r"((?:[A-Z][\w'-]*\s){0,2}[A-Z][\w'-]*)")


def placed_in(text: str) -> tuple[str, str] | None:
    """Where a company's own text seats it, as written and as a country code: a known city followed by its
    country ("in Milan, Italy"), or a place after "headquartered/based/located in". A country named alone
    ("sells across Italy") places nothing."""
    for found in _PLACE_PAIR.finditer(text):
        first, second = found.group(1).split(), found.group(2)
        code = country_code(second)
        for start in range(len(first)):  # "Visit Milan, Italy": the city is the pair's tail
            city = " ".join(first[start:])
            place = lexicon().get(words(city))
            if code and place is not None and place.cities and code in place.countries:
                return f"{city}, {second}", code
    for found in _SEATED_IN.finditer(text):
        named = found.group(1).split()
        for end in range(len(named), 0, -1):  # "in Munich We build…": the place is the group's head
            place = lexicon().get(words(" ".join(named[:end])))
            if place is not None and len(place.countries) == 1:
                return " ".join(named[:end]), place.countries[0]
    return None


def check_geography(req: Constraints, profile: CompanyProfile) -> Check:
    src = cite(profile)
    if req.cities and profile.city and any(_same_city(profile.city, c) for c in req.cities):
        return Check(5, f"Headquarters city is {profile.city} {src} — matches {_names(req.cities)}.")
    if req.states and profile.state and any(same_place(profile.state, s) for s in req.states):
        return Check(5, f"Headquarters state is {profile.state} {src} — matches {_names(req.states)}.")
    if req.states and not profile.state and profile.city and (state := _state_of(profile, req.states)):
        return Check(5, f"Headquarters city is {profile.city} {src}, in {state} — matches {_names(req.states)}.")
    wanted = req.countries or tuple(country_name(c) for c in sorted(_finer_countries(req)))
    want_codes = {country_code(n) or n for n in wanted}
    have = _profile_country(profile)
    if have is not None:
        shown = profile.country or country_name(have)
        if have not in want_codes:
            return Check(1, f"Headquarters country is {shown} {src} — not {_names(wanted)}.")
        if have not in _finer_countries(req):
            return Check(5, f"Headquarters country is {shown} {src} — matches {_names(wanted)}.")
        finer = (*req.cities, *req.states)
        known = [v for v in (profile.city, profile.state) if v]
        if (not req.cities or profile.city) and (not req.states or profile.state):
            return Check(1, f"Headquarters are in {', '.join(known)}, {shown} {src} — not {_names(finer)}.")
        return Check(
            3, f"Headquarters country is {shown} {src}, but the city/state is not recorded to confirm {_names(finer)}."
        )
    places = (*req.cities, *req.states, *wanted)
    text = " ".join(filter(None, (profile.description, profile.full_description)))
    if wanted and not req.cities and not req.states and (stated := placed_in(text)) is not None:
        where, code = stated
        if code in want_codes:
            return Check(4, f"Headquarters country not recorded; the description places it in {where} {src} — "
                            f"matches {_names(wanted)}.")
        return Check(2, f"Headquarters country not recorded; the description places it in {where} {src} — not "
                        f"{_names(wanted)}.")
    text_words = " ".join(words(text))
    for place in places:
        if f" {' '.join(words(place))} " in f" {text_words} ":
            return Check(3, f"Headquarters country not recorded; the description mentions {place} {src}.")
    return Check(2, f"Headquarters country not recorded {src} — cannot confirm {_names(places)}.")


def _want(low: int | None, high: int | None, unit: str = "") -> str:
    if low is not None and high is not None:
        return f"{low:,}–{high:,}{unit}" if low != high else f"{low}{unit}"
    return f"at least {low:,}{unit}" if low is not None else f"at most {high:,}{unit}"


def _compare(value_low: int, value_high: int | None, low: int | None, high: int | None, near: float) -> int:
    """5 if [value_low, value_high] lies inside [low, high], 3 if it overlaps or misses by `near`, else 1."""
    top = value_high if value_high is not None else value_low
    inside_low = low is None or value_low >= low
    inside_high = high is None or (value_high is not None and value_high <= high)
    if inside_low and inside_high:
        return 5
    if (low is None or top >= low) and (high is None or value_low <= high):
        return 3  # a bucket straddling a bound
    if low is not None and top < low:
        return 3 if top >= low - near else 1
    assert high is not None
    return 3 if value_low <= high + near else 1


def check_size(req: Constraints, profile: CompanyProfile) -> Check:
    low, high = req.min_employees, req.max_employees
    want = _want(low, high, " employees")
    src = cite(profile)
    if profile.employees is not None and profile.employees > 0:
        n = profile.employees
        slack = NEAR_EMPLOYEES * (low if low is not None and n < low else (high or n))
        grade = _compare(n, n, low, high, slack)
        verdict = {5: "within", 3: "close to", 1: "outside"}[grade]
        return Check(grade, f"Employees: {n:,} {src} — {verdict} the requested {want}.")
    bucket = profile.employee_count
    if bucket and (bounds := _bucket(bucket)) is not None:
        b_low, b_high = bounds
        slack = NEAR_EMPLOYEES * (low if low is not None and (b_high or b_low) < low else (high or b_low))
        grade = _compare(b_low, b_high, low, high, slack)
        verdict = {5: "within", 3: "overlaps or is close to", 1: "outside"}[grade]
        return Check(grade, f"Employee range {bucket} {src} — {verdict} the requested {want}.")
    return Check(2, f"Employee count not recorded {src} — cannot confirm {want}.")


def _bucket(label: str) -> tuple[int, int | None] | None:
    text = label.replace(",", "").strip()
    try:
        if text.endswith("+"):
            return int(text[:-1]), None
        low, _, high = text.partition("-")
        return int(low), int(high)
    except ValueError:
        return None


def check_founding(req: Constraints, profile: CompanyProfile) -> Check:
    after, before = req.founded_after, req.founded_before
    want = _want(after, before).replace(",", "")
    src = cite(profile)
    year = profile.founded_year
    if year is None:
        return Check(2, f"Founding year not recorded {src} — cannot confirm founded {want}.")
    grade = _compare(year, year, after, before, NEAR_YEARS)
    verdict = {5: "matches", 3: "is close to", 1: "is outside"}[grade]
    return Check(grade, f"Founded in {year} {src} — {verdict} the requested {want}.")


def check_status(req: Constraints, profile: CompanyProfile) -> Check:
    src = cite(profile)
    wanted = " or ".join(req.statuses)
    if not profile.status:
        return Check(2, f"Company status not recorded {src} — cannot confirm {wanted}.")
    have = profile.status.strip().lower()
    if have in req.statuses:
        return Check(5, f"Company status is '{profile.status}' {src} — matches {wanted}.")
    return Check(1, f"Company status is '{profile.status}' {src} — not {wanted}.")


# An unknown qualifier is graded 4, not 3. High-fit needs 75 % of the criteria at 4 or 5, so a 3 for every
# company the data is silent about (nearly all: directories rarely record funding rounds, hiring or remote
# work) would empty the list of "YC-backed fintech startups". 5 is kept for evidence, so confirmed companies
# rank first by relevance, and the explanation says plainly that nothing confirms it; contrary data (a
# listed company for "Series A") gives 1.
UNKNOWN_QUALIFIER = 4


def check_qualifier(qualifier: Qualifier, profile: CompanyProfile) -> Check:
    src = cite(profile)
    status = (profile.status or "").strip().lower()
    if status in qualifier.contradicted_by:
        return Check(1, f"Company status is '{profile.status}' {src} — not {qualifier.name}.")
    if qualifier.max_employees is not None and (size := _size_check(qualifier, qualifier.max_employees, profile)):
        return size
    fields = (("Tags", "; ".join(profile.tags)), ("Name", profile.name), ("Description", profile.description),
              ("Products", profile.products), ("Full description", profile.full_description))
    for field, text in fields:
        if text and (match := qualifier.evidence.search(text)):
            return Check(5, f"{field} says '{_around(text, match.start(), match.end())}' {src} — {qualifier.name}.")
    for passage in profile.passages:
        if match := qualifier.evidence.search(passage.text):
            quote = _around(passage.text, match.start(), match.end())
            return Check(5, f'Its website says "{quote}" ({passage.url}) — {qualifier.name}.', (passage.url,))
    return Check(
        UNKNOWN_QUALIFIER,
        f"Unknown: nothing in the description, tags or website {src} confirms {qualifier.name}; not held against "
        "it, but not confirmed.",
    )


# A headcount up to this many times a qualifier's typical maximum is not held against it (a 400-person
# startup is still a startup); beyond it, the company is clearly not one.
FAR_ABOVE = 5


def _size_check(qualifier: Qualifier, typical: int, profile: CompanyProfile) -> Check | None:
    src = cite(profile)
    if profile.employees is not None and profile.employees > 0:
        n, shown = profile.employees, f"Employees: {profile.employees:,}"
    elif profile.employee_count and (bounds := _bucket(profile.employee_count)) is not None:
        n, shown = bounds[0], f"Employee range {profile.employee_count}"
    else:
        return None
    if n <= typical:
        return Check(5, f"{shown} {src} — the size of a {qualifier.name} (up to {typical:,}).")
    if n <= FAR_ABOVE * typical:
        return Check(4, f"{shown} {src} — larger than most {qualifier.name}s (up to {typical:,}), not far above.")
    return Check(1, f"{shown} {src} — far above a {qualifier.name}'s size (up to {typical:,}).")


def _around(text: str, start: int, end: int, width: int = 60) -> str:
    left = text.rfind(" ", 0, max(0, start - width)) + 1
    right = text.find(" ", min(len(text), end + width))
    snippet = text[left : right if right != -1 else len(text)].strip()
    return ("…" if left > 0 else "") + snippet + ("…" if right != -1 else "")
