"""What an LLM grade rests on, checked on our side (pure).

The model sees a company's profile fields and its website passages numbered 1, 2, … but never a URL: it
cites passage numbers and profile field names, and quotes the words its grade rests on. Here the numbers
become the passages' URLs again, and the quote is looked up in the company's own text, so a model (or a
page's text talking to it) can neither invent a source nor rest a high grade on words nobody wrote.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from firmscout.entities import CompanyProfile, Grade

# The profile fields the model sees and may cite (by name, in a grade's `sources`); their text counts as
# the company's own words for the quote check. URL fields (`sources`, `website`, ...) are never sent.
PROFILE_FIELDS = ("name", "description", "full_description", "country", "state", "city", "industries", "tags",
                  "products", "founded_year", "employees", "status")

# A grade above this needs a quote found in the company's text.
UNQUOTED_MAX = 3
NOT_FOUND = "quote not found in the company's pages"
NO_QUOTE = "no quote from the company's pages"

# Typographic variants a model writes for what a page has plainly, or the other way round.
_PLAIN = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "`": "'", "\u00b4": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
})
_SPACE = re.compile(r"\s+")
# A quote cut short with an ellipsis ("We serve ... banks") is checked part by part.
_ELLIPSIS = re.compile(r"\.{3,}|\[\.\.\.\]|\(\.\.\.\)")
_EDGES = "\"' .,;:!?-"


def normalise(text: str) -> str:
    """Text as quotes are compared: compatibility forms folded (NFKC: "…" is "...", no-break spaces are
    spaces), typographic quotes and dashes made plain, case folded, runs of whitespace made one space."""
    text = unicodedata.normalize("NFKC", text).translate(_PLAIN).casefold()
    return _SPACE.sub(" ", text).strip()


# A page's text as the model sees it: a batch of five companies with four pages each stays within the context
# of small local models. Quotes are still checked against the whole page.
PROMPT_PASSAGE_CHARS = 1500


def numbered_passages(profile: CompanyProfile) -> list[dict[str, Any]]:
    """The profile's passages as the model sees them: a number and the text, no URL."""
    return [{"number": i, "text": passage.text[:PROMPT_PASSAGE_CHARS]}
            for i, passage in enumerate(profile.passages, start=1)]


def field_texts(profile: CompanyProfile) -> list[str]:
    out: list[str] = []
    for name in PROFILE_FIELDS:
        value = getattr(profile, name)
        values = value if isinstance(value, tuple) else (value,)
        out += [str(v) for v in values if v not in (None, "")]
    return out


def _parts(quote: str) -> list[str]:
    parts = (part.strip(_EDGES) for part in _ELLIPSIS.split(normalise(quote)))
    return [part for part in parts if part]


def found_in(quote: str, texts: Iterable[str]) -> bool:
    """Whether every part of `quote` occurs in one of `texts`, after `normalise`."""
    parts = _parts(quote)
    return bool(parts) and any(all(part in normalise(text) for part in parts) for text in texts)


def _numbers(value: Any, count: int) -> list[int]:
    numbers = (n for n in value if isinstance(n, int) and not isinstance(n, bool)) if isinstance(value, list) else ()
    # Numbers beyond this company's passages are dropped: the schema can only bound them per batch.
    return list(dict.fromkeys(n for n in numbers if 1 <= n <= count))


def checked_grade(profile: CompanyProfile, grade: int, explanation: str, score: dict[str, Any]) -> Grade:
    """The model's grade for one criterion, with URLs for what it cited and its quote checked.

    `sources` are the cited passages' URLs, then the profile's sources when it cited profile fields; a
    grade citing nothing valid gets the pages its quote was found on, else the profile's sources. A grade
    above `UNQUOTED_MAX` whose quote is missing or not found is lowered to it, and the explanation says so.
    """
    passages = profile.passages
    cited = [passages[n - 1].url for n in _numbers(score.get("passages"), len(passages))]
    fields = score.get("sources")
    if isinstance(fields, list) and any(f in PROFILE_FIELDS for f in fields):
        cited += profile.sources
    quote = score.get("quote")
    quote = quote if isinstance(quote, str) else ""
    on_pages = [p.url for p in passages if found_in(quote, (p.text,))]
    found = bool(on_pages) or found_in(quote, field_texts(profile))
    sources = tuple(dict.fromkeys(cited or on_pages or profile.sources))
    if found:
        return Grade(grade, explanation, sources)
    reason = NOT_FOUND if _parts(quote) else NO_QUOTE
    if grade > UNQUOTED_MAX:
        return Grade(UNQUOTED_MAX, f"{explanation} ({reason}; capped at {UNQUOTED_MAX})", sources)
    # A low grade stands without evidence ("nothing says so"), but an invented quote is still flagged.
    return Grade(grade, f"{explanation} ({reason})" if _parts(quote) else explanation, sources)
