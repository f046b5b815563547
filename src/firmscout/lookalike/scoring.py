"""Lookalike scoring, pure: how much a candidate's profile says what the reference's profile says.

A candidate pool (already retrieved by full-text search) is ranked by TF-IDF cosine against the
reference's text, with inverse document frequencies taken from the pool itself, then re-ranked once with
the centroid of the best candidates added to the query (pseudo-relevance feedback: lookalikes share
vocabulary the reference's own short description does not use). Then what shares a reference's words
without sharing its product is demoted: a company named like the reference (its own units), a description
that names it (its dealers, consultants and partners describe themselves by it), and a role the reference
does not have (a services firm, a dealer or rental fleet, a directory or magazine).

Plain dictionaries, not numpy: the pool is at most a few thousand short texts, and the default install
carries no numerical stack.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from firmscout.entities import CompanyProfile
from firmscout.geography import fold, lexicon, singular

# What a company does is said in its first paragraph; marketing text further down mostly repeats it.
TEXT_CHARS = 1200
# Pseudo-relevance feedback: how many of the first ranking's best make the centroid, and its weight.
FEEDBACK_DOCS = 30
FEEDBACK_WEIGHT = 0.7
# Multipliers for the demotions (measured on bench.lookalike's tuning seeds).
NAMES_REFERENCE = 0.5
# A company named like the reference ("Ottawa Marriott", "Teladoc Health Denmark") is one of its own units.
NAMED_LIKE_REFERENCE = 0.2
ROLE_MISMATCH = 0.6
PLACE_WEIGHT = 0.2

_STOP = frozenset(
    str.split("""a about above across after again against all also am among an and any are as at be because been
    before being below between both but by can could did do doe does doing down during each either
    every few for from further had has have having he her here hers him his how i if in into is it its
    itself just less let like made make many may me more most much must my no nor not now of off on once
    one only or other our ours out over own per same she should so some such than that the their theirs
    them then there these they this those through to too under until up upon us very via was we were what
    when where which while who whom whose why will with within without would you your yours etc inc ltd
    llc gmbh co corp company companies business businesses offer offers offering provide provides
    providing provider solution solutions service based help helps helping including include includes
    world worldwide global leading leader new best around well way use used using across found founded
    headquartered headquarter operate operates operating engaged engages formerly known subsidiary segment
    segments incorporated various primarily together comprise comprises related involved name""")
)
# Words most company descriptions use: no help in finding a pool (each matches a large share of any
# directory, and full-text ranking costs per match), though they still count in scoring.
_COMMON = frozenset(
    str.split("""product service develop development include industry technology technologies management
    manage system consumer market sell solution customer platform software application process design work
    brand project produce production supply support team data digital online cloud app enterprise
    international united state states group holding holdings limited corporation partner network""")
)
# What a company is besides a maker or operator of its own product. A lookalike shares the reference's
# role: the dealers, rental fleets, consultancies and directories of an industry use its words without
# selling what it sells.
_ROLES = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        # services
        r"\b(?:consult\w*|agency|agencies|reseller\w*|training|courses?|recruit\w*|staffing|outsourc\w*|"
        r"system integrator\w*|implementation partner\w*|certified partner\w*|experts? in|enabler\w*|investors?\b|"
        r"venture capital|services? provider\w*|managed (?:\w+ )?services?\b|(?:it|professional) services\b|"
        r"services (?:company|firm|agency))",
        # trade
        r"\b(?:dealers?\b|dealership\w*|distribut(?:or|ors|ion of)\b|rentals?\b|rent\b|"
        r"used (?:\w+ ){0,3}(?:equipment|machinery|vehicles?|cars?)|resale|second[- ]hand|spare parts|"
        r"aftermarket parts|parts supplier|wholesal\w*|importer|exporter|trading company)",
        # media and directories
        r"\b(?:magazine|news\b|blog|directory|directories|listings?\b|find the best|compare prices|best deals|"
        r"great deals|reviews of|guide to|online booking|cheap\b)",
    )
)

def profile_text(profile: CompanyProfile, *, products_weight: int = 1) -> str:
    """The words a company is compared by: what it does, what it sells, how directories label it."""
    parts = [
        (profile.description or "")[:TEXT_CHARS],
        *([profile.products or ""] * products_weight),
        " ; ".join(profile.industries),
        " ; ".join(profile.tags),
    ]
    if not profile.description:
        parts.append((profile.full_description or "")[:TEXT_CHARS])
    return " . ".join(p for p in parts if p)


_WORD = re.compile(r"[a-z0-9]+")
_singular = lru_cache(maxsize=65536)(singular)


def words(text: str) -> list[str]:
    """Lower-case singular words: `geography.words` without its per-character accent folding on ASCII text,
    which dominated the time to score a pool."""
    lowered = text.lower()
    if not lowered.isascii():
        lowered = fold(lowered)
    return [_singular(w) for w in _WORD.findall(lowered)]


def terms(text: str) -> list[str]:
    """Content words and the pairs of adjacent content words ("point sale", "drain cleaning")."""
    out: list[str] = []
    previous: str | None = None
    for word in words(text):
        if word in _STOP or len(word) < 2 or word.isdigit():
            previous = None
            continue
        out.append(word)
        if previous is not None:
            out.append(f"{previous} {word}")
        previous = word
    return out


def query_words(profile: CompanyProfile, limit: int = 32) -> list[str]:
    """The reference's distinct content words, for the full-text search that fills the pool."""
    return [t for t in _distinct_terms(profile) if " " not in t and t not in _COMMON][:limit]


def query_pairs(profile: CompanyProfile, words: int = 6) -> list[tuple[str, str]]:
    """Pairs of the reference's first content words, each pair to be found anywhere in one company's text:
    a few thousand companies share two of them where tens of thousands share one."""
    return list(itertools.combinations(query_words(profile, limit=words), 2))


def query_phrases(profile: CompanyProfile, limit: int = 24) -> list[str]:
    """The reference's pairs of adjacent content words, what its products are called ("drain cleaning")."""
    return [t for t in _distinct_terms(profile) if " " in t][:limit]


def _distinct_terms(profile: CompanyProfile) -> list[str]:
    return list(dict.fromkeys(terms(profile_text(profile))))


@lru_cache(maxsize=65536)
def _place_weight(term: str) -> float:
    # Where a company is says nothing about what it sells: lookalikes share a product and a buyer, and a
    # place is the caller's filter to set ("Southeast Asia's leading e-commerce enabler" is not Shopee).
    return PLACE_WEIGHT if lexicon().get(tuple(term.split())) is not None else 1.0


@lru_cache(maxsize=16384)
def _tf(text: str) -> dict[str, float]:
    """Sublinear term frequencies with places discounted; cached, as a server meets the same companies in
    many pools."""
    return {t: (1 + math.log(n)) * _place_weight(t) for t, n in Counter(terms(text)).items()}


@dataclass(frozen=True)
class Scored:
    index: int  # position in the pool as given
    score: float  # 0-1


def rank(query: str, pool: Sequence[CompanyProfile], *, reference: CompanyProfile | None = None) -> list[Scored]:
    """The pool ranked against `query` (a reference's profile text, or a searcher's words), best first.

    With `reference`, the two demotions apply and the reference itself is left out. Ties keep pool order.
    """
    docs = [_tf(profile_text(p)) for p in pool]
    asked = _tf(query)
    df: Counter[str] = Counter(asked.keys())
    for doc in docs:
        df.update(doc.keys())
    n = len(docs) + 1
    idf = {t: math.log((n + 1) / (f + 1)) + 1 for t, f in df.items()}
    norms = [math.sqrt(sum((w * idf[t]) ** 2 for t, w in doc.items())) or 1.0 for doc in docs]
    q = _unit({t: w * idf[t] for t, w in asked.items()})
    # Document weights are tf × idf / norm; folding idf into the query keeps each dot product one pass.
    q_idf = {t: v * idf[t] for t, v in q.items()}
    first = [sum(v * doc.get(t, 0.0) for t, v in q_idf.items()) / norm for doc, norm in zip(docs, norms, strict=True)]
    best = sorted(range(len(docs)), key=lambda i: -first[i])[:FEEDBACK_DOCS]
    centroid: Counter[str] = Counter()
    for i in best:
        centroid.update({t: w * idf[t] / norms[i] for t, w in docs[i].items()})
    if centroid:
        feedback = _unit(dict(centroid))
        expanded = dict(q)
        for t, v in feedback.items():
            expanded[t] = expanded.get(t, 0.0) + FEEDBACK_WEIGHT * v
        q = _unit(expanded)
        q_idf = {t: v * idf[t] for t, v in q.items()}
    scores = [sum(w * q_idf.get(t, 0.0) for t, w in doc.items()) / norm for doc, norm in zip(docs, norms, strict=True)]
    if reference is not None:
        scores = _demoted(reference, pool, scores)
    order = sorted(range(len(pool)), key=lambda i: -scores[i])
    left_out = reference.domain if reference is not None else None
    return [Scored(i, round(max(0.0, min(1.0, scores[i])), 4)) for i in order if pool[i].domain != left_out]


def _unit(vector: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(v * v for v in vector.values()))
    return {t: v / norm for t, v in vector.items()} if norm else vector


@lru_cache(maxsize=16384)
def _roles(opening: str) -> frozenset[int]:
    return frozenset(i for i, role in enumerate(_ROLES) if role.search(opening))


def _names_pattern(reference: CompanyProfile) -> re.Pattern[str] | None:
    name = words(reference.name)
    label = reference.domain.split(".")[0]
    forms = {" ".join(name[:1]), label} - {""}
    forms = {f for f in forms if len(f) >= 3 and f not in _STOP}
    if not forms:
        return None
    return re.compile(r"\b(?:" + "|".join(re.escape(f) for f in sorted(forms)) + r")\b")


def _demoted(reference: CompanyProfile, pool: Sequence[CompanyProfile], scores: list[float]) -> list[float]:
    names = _names_pattern(reference)
    own = _roles(profile_text(reference))
    out = list(scores)
    for i, profile in enumerate(pool):
        text = profile.description or profile.full_description or ""
        if names is not None and names.search(" ".join(words(profile.name))):
            out[i] *= NAMED_LIKE_REFERENCE
        elif names is not None and names.search(text[:TEXT_CHARS].lower()):
            out[i] *= NAMES_REFERENCE
        if _roles(text[:300]) - own:
            out[i] *= ROLE_MISMATCH
    return out
