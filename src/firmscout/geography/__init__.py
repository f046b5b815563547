"""Place names for import cleaning and query parsing: countries, aliases, demonyms, regions, states, cities
(the city table is `cities.py`).

Countries are identified by ISO alpha-2 code internally and shown by the English short name the company
database uses ("South Korea", not pycountry's "Korea, Republic of"). Cleaning stores that name and the
query parser asks for it, and sources filter on it by equality, so both read it from here.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import pycountry

from firmscout.geography.cities import CAPITALISED_ONLY as CAPITALISED_ONLY
from firmscout.geography.cities import CITIES

_TOKEN = re.compile(r"[a-z0-9]+")

# Kept as-is: stripping their final "s" would produce a different word ("gas" → "ga", "news" → "new").
_NO_SINGULAR = frozenset(
    {
        "gas",
        "news",
        "series",
        "species",
        "saas",
        "paas",
        "iaas",
        "os",
        "aws",
        "bus",
        "us",
        "chassis",
        "lens",
        "ads",
        "mass",
        "glass",
        "biomass",
        "process",
        "business",
        "access",
        "wellness",
        "fitness",
        "analysis",
        "diagnosis",
        "bos",
        "ios",
        "kubernetes",
        "alias",
        "status",
        "canvas",
        "campus",
    }
)


def fold(text: str) -> str:
    """Lower-case, strip accents ("Zürich" → "zurich") and spell "&" as "and"."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return ascii_text.lower().replace("&", " and ")


def singular(word: str) -> str:
    if len(word) <= 3 or word in _NO_SINGULAR or word.isdigit():
        return word
    # "-ics" nouns (logistics, analytics, robotics) are already singular in use.
    if word.endswith(("ics", "ss", "us", "is")):
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes", "sses", "zes")):
        return word[:-2]
    if word.endswith("s"):
        return word[:-1]
    return word


# Defined here rather than with the query vocabulary: place phrases and query words must normalise alike.
@lru_cache(maxsize=16384)
def words(text: str) -> tuple[str, ...]:
    """Normalised singular word tokens; hyphens and punctuation separate words ("open-source" → open source)."""
    return tuple(singular(w) for w in _TOKEN.findall(fold(text)))


# Short names as the company data spells them (FinanceDatabase, pytickersymbols), where pycountry's
# `common_name`/`name` differ.
_DISPLAY = {
    "RU": "Russia",
    "TR": "Turkey",
    "CZ": "Czech Republic",
    "MO": "Macau",
    "KR": "South Korea",
    "KP": "North Korea",
    "CD": "Democratic Republic of the Congo",
    "CG": "Republic of the Congo",
    "VG": "British Virgin Islands",
    "MK": "North Macedonia",
    "PS": "Palestine",
    "FM": "Micronesia",
}

# Country spellings pycountry does not know (or knows under another name), lower-case; "us"/"uk" count
# in queries only when written in capitals (see `CASE_SENSITIVE`).
COUNTRY_ALIASES = {
    "us": "US",
    "usa": "US",
    "u s a": "US",
    "u s": "US",
    "united states of america": "US",
    "america": "US",
    "uk": "GB",
    "u k": "GB",
    "britain": "GB",
    "great britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "holland": "NL",
    "the netherlands": "NL",
    "deutschland": "DE",
    "uae": "AE",
    "emirates": "AE",
    "korea": "KR",
    "south korea": "KR",
    "north korea": "KP",
    "czech republic": "CZ",
    "turkey": "TR",
    "turkiye": "TR",
    "russia": "RU",
    "macau": "MO",
    "macedonia": "MK",
    "ivory coast": "CI",
    "republic of the congo": "CG",
    "democratic republic of the congo": "CD",
    "curacao": "CW",
    "vatican": "VA",
    "laos": "LA",
    "syria": "SY",
}
# "LA" is Los Angeles only in capitals ("la" is an article in many company names).
CASE_SENSITIVE = frozenset({"us", "uk", "la"})

# Adjectives for a country ("Spanish banks"), for reading queries; import cleaning keeps them as written.
_DEMONYMS = {
    "spanish": "ES",
    "japanese": "JP",
    "german": "DE",
    "french": "FR",
    "italian": "IT",
    "british": "GB",
    "english": "GB",
    "american": "US",
    "chinese": "CN",
    "indian": "IN",
    "brazilian": "BR",
    "canadian": "CA",
    "mexican": "MX",
    "dutch": "NL",
    "swedish": "SE",
    "norwegian": "NO",
    "danish": "DK",
    "finnish": "FI",
    "irish": "IE",
    "belgian": "BE",
    "austrian": "AT",
    "polish": "PL",
    "portuguese": "PT",
    "greek": "GR",
    "turkish": "TR",
    "israeli": "IL",
    "korean": "KR",
    "south korean": "KR",
    "australian": "AU",
    "singaporean": "SG",
    "argentine": "AR",
    "argentinian": "AR",
    "argentinean": "AR",
    "chilean": "CL",
    "colombian": "CO",
    "peruvian": "PE",
    "nigerian": "NG",
    "kenyan": "KE",
    "egyptian": "EG",
    "south african": "ZA",
    "saudi": "SA",
    "emirati": "AE",
    "russian": "RU",
    "ukrainian": "UA",
    "hungarian": "HU",
    "romanian": "RO",
    "indonesian": "ID",
    "thai": "TH",
    "vietnamese": "VN",
    "malaysian": "MY",
    "filipino": "PH",
    "taiwanese": "TW",
    "icelandic": "IS",
    "estonian": "EE",
    "latvian": "LV",
    "lithuanian": "LT",
    "luxembourgish": "LU",
    "new zealand": "NZ",
    "scottish": "GB",
    "welsh": "GB",
    "swiss": "CH",
    "czech": "CZ",
}


def _codes(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_EU = _codes("AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE")
_EUROPE = (*_EU, *_codes("GB NO CH IS LI MC AD SM UA RS BA ME MK AL MD BY GI IM JE GG FO"))
_NORDICS = ("SE", "NO", "DK", "FI", "IS")
_APAC = _codes("JP CN KR TW HK MO SG IN AU NZ ID MY TH VN PH BD PK LK KH MN")
_ASIA = _codes("JP CN KR TW HK MO SG IN ID MY TH VN PH BD PK LK KH MN LA MM NP KZ UZ KG TJ TM AF BT BN MV TL")
_LATAM = _codes("MX BR AR CL CO PE UY PY BO EC VE CR PA GT HN SV NI DO CU PR")
_MIDDLE_EAST = _codes("AE SA IL QA KW BH OM JO LB IQ IR SY YE TR EG PS")
_AFRICA = _codes(
    "ZA NG KE EG MA GH ET TZ UG RW SN CI TN DZ AO CM ZW ZM MZ BW NA MU MG ML NE BF BJ"
    " TG SL LR GN GM CD CG GA SD SS LY SO DJ ER MW LS SZ CV ST GQ CF TD BI KM SC MR"
)

# Each region once: the label criteria show, its member codes, and the spellings a query may use.
_REGIONS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("Europe", _EUROPE, ("europe", "european", "emea")),
    ("the European Union", _EU, ("eu", "european union")),
    ("the DACH region", ("DE", "AT", "CH"), ("dach",)),
    ("the Nordics", _NORDICS, ("nordic", "nordics")),
    ("Scandinavia", ("SE", "NO", "DK"), ("scandinavia", "scandinavian")),
    ("the Benelux", ("BE", "NL", "LU"), ("benelux",)),
    ("Asia-Pacific", _APAC, ("apac", "asia pacific")),
    ("Asia", _ASIA, ("asia", "asian")),
    ("Latin America", _LATAM, ("latam", "latin america", "latin american", "south america")),
    ("North America", ("US", "CA", "MX"), ("north america", "north american")),
    ("the Middle East", _MIDDLE_EAST, ("middle east", "middle eastern")),
    ("the Middle East", (*_MIDDLE_EAST, "MA", "DZ", "TN", "LY"), ("mena",)),
    ("Africa", _AFRICA, ("africa", "african")),
)
REGIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    spelling: (label, codes) for label, codes, spellings in _REGIONS for spelling in spellings
}

# Ambiguous with ordinary words or person names in queries; left out of the country lexicon.
_SKIP_NAMES = frozenset({"chad", "jersey", "guernsey", "georgia", "reunion"})

# Subdivision categories that stand for "the state" in "City, State" without a country.
STATE_CATEGORIES = {
    "US": frozenset({"State", "District"}),
    "CA": frozenset({"Province", "Territory"}),
    "AU": frozenset({"State", "Territory"}),
}


@dataclass(frozen=True)
class Place:
    countries: tuple[str, ...] = ()  # alpha-2
    states: tuple[str, ...] = ()
    cities: tuple[str, ...] = ()
    label: str | None = None  # region label, when the phrase named a region


def country_name(code: str) -> str:
    """The display name for an alpha-2 code ("KR" → "South Korea"); the code itself when unknown."""
    if code in _DISPLAY:
        return _DISPLAY[code]
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    return str(getattr(country, "common_name", None) or country.name)


def _states_of(code: str) -> list[tuple[str, str]]:
    # (name, code without the country prefix: "TX") for each subdivision of a state category.
    categories = STATE_CATEGORIES[code]
    subdivisions = pycountry.subdivisions.get(country_code=code) or ()
    return [(str(sub.name), str(sub.code).split("-")[1]) for sub in subdivisions if sub.type in categories]


@lru_cache(maxsize=1)
def lexicon() -> dict[tuple[str, ...], Place]:
    """Every place phrase a query may name, as normalised words → what it names."""
    table: dict[tuple[str, ...], Place] = {}
    for country in pycountry.countries:
        code = country.alpha_2
        for attr in ("name", "common_name", "official_name"):
            value = getattr(country, attr, None)
            if value:
                key = words(value)
                if " ".join(key) not in _SKIP_NAMES:
                    table.setdefault(key, Place(countries=(code,)))
        table.setdefault(words(country_name(code)), Place(countries=(code,)))
    for alias, code in (*COUNTRY_ALIASES.items(), *_DEMONYMS.items()):
        table[words(alias)] = Place(countries=(code,))
    for name, _ in _states_of("US"):
        table[words(name)] = Place(countries=("US",), states=(name,))
    table[words("georgia")] = Place(countries=("GE",))  # the country; "Atlanta" style queries name cities
    table[words("washington dc")] = Place(countries=("US",), states=("District of Columbia",))
    for spelling, (city, code, state) in CITIES.items():
        # A country or state of the same name wins ("Kuwait", "New York"); the table leaves those out.
        table.setdefault(words(spelling), Place(countries=(code,), states=(state,) if state else (), cities=(city,)))
    for spelling, (label, codes) in REGIONS.items():
        table[words(spelling)] = Place(countries=tuple(codes), label=label)
    return table


@lru_cache(maxsize=4096)
def country_code(name: str) -> str | None:
    """The alpha-2 code for a country name as data spells it ("Spain", "USA", "Korea, Republic of")."""
    key = words(name)
    place = lexicon().get(key)
    if place is not None and len(place.countries) == 1 and not place.cities and not place.states:
        return place.countries[0]
    if len(key) == 1 and len(key[0]) == 2:
        found = pycountry.countries.get(alpha_2=key[0].upper())
        return str(found.alpha_2) if found is not None else None
    return None


@lru_cache(maxsize=4096)
def lookup_country(key: str) -> str | None:
    """The alpha-2 code for a lower-case country name, alias or ISO code (alpha-2, alpha-3, numeric)."""
    if key in COUNTRY_ALIASES:
        return COUNTRY_ALIASES[key]
    try:
        return str(pycountry.countries.lookup(key).alpha_2)
    except LookupError:
        return None


@lru_cache(maxsize=1)
def _state_table() -> dict[str, tuple[str, str]]:
    table: dict[str, tuple[str, str]] = {}
    for code in STATE_CATEGORIES:
        country = country_name(code)
        for state, abbreviation in _states_of(code):
            table[state.lower()] = (country, state)
            if code == "US":
                # "Austin, TX": US addresses abbreviate the state far more often than others do.
                table[abbreviation.lower()] = (country, state)
    return table


def find_state(text: str) -> tuple[str, str] | None:
    """(country display name, state name) for a US/Canadian/Australian state or province name, or a US
    state's postal code ("TX"); None for anything else."""
    return _state_table().get(text.lower().replace(".", "").strip())


def subdivision_name(country: str | None, code: str) -> str | None:
    """The subdivision a code names in a `STATE_CATEGORIES` country, by display name ("Canada", "ON" →
    "Ontario"); None for other countries and unknown codes."""
    alpha_2 = next((c for c in STATE_CATEGORIES if country_name(c) == country), None)
    if alpha_2 is None or len(code) > 3:
        return None
    found = pycountry.subdivisions.get(code=f"{alpha_2}-{code.upper()}")
    return str(found.name) if found is not None else None


def same_place(a: str, b: str) -> bool:
    """City/state names compared loosely: "New York City" equals "New York", "Zürich" equals "Zurich"."""
    wa, wb = words(a), words(b)
    trim = ("city",)
    wa = wa[:-1] if wa[-1:] == trim and len(wa) > 1 else wa
    wb = wb[:-1] if wb[-1:] == trim and len(wb) > 1 else wb
    return wa == wb
