"""Company names compared: legal forms (cleanco), case and punctuation aside, near-equal spellings (rapidfuzz)."""

from __future__ import annotations

import re
from functools import lru_cache

from cleanco import basename
from rapidfuzz import fuzz

# Two keys this similar (0-100) are one name spelled twice ("Acme Robotic" / "Acme Robotics").
SAME_NAME_RATIO = 95
_PUNCTUATION = re.compile(r"[^\w\s]")


@lru_cache(maxsize=8192)
def name_key(name: str) -> str:
    """"ACME Robotics, Inc." → "acme robotics"."""
    return " ".join(_PUNCTUATION.sub(" ", basename(name).casefold()).split())


def same_company_name(a: str, b: str) -> bool:
    """The same name, spelled twice: what two domains of one company show."""
    x, y = name_key(a), name_key(b)
    return bool(x and y) and (x == y or fuzz.ratio(x, y) >= SAME_NAME_RATIO)


def names_agree(short: str, full: str) -> bool:
    """The same name, or one the other's start ("Acme" on a homepage, "Acme Robotics" on LinkedIn)."""
    x, y = name_key(short), name_key(full)
    return same_company_name(short, full) or (bool(x and y) and (x.startswith(y + " ") or y.startswith(x + " ")))
