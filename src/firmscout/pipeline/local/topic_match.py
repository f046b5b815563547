"""Topic evidence: does the profile's industries, tags or text name a topic or one of its synonyms?

Industry labels and tags are curated classifications, so a match there is the strongest evidence (5);
a mention in the name, description or products is good evidence (4); only some words of a
multi-word topic appearing is weak (3); nothing is a miss (1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from firmscout.entities import CompanyProfile
from firmscout.pipeline.local.checks import Check, cite
from firmscout.pipeline.local.vocabulary import GENERIC_NOUNS, STOPWORDS, synonym_forms, words


@dataclass(frozen=True)
class _Evidence:
    strength: int
    sentence: str
    url: str | None = None  # the page quoted, when the evidence is on the company's website


def _word_eq(have: str, want: str) -> bool:
    # A short suffix on a 4+ letter stem is the same word ("bank" / "banking", "chemical" / "chemically").
    return have == want or (len(want) >= 4 and have.startswith(want) and len(have) - len(want) <= 3)


@lru_cache(maxsize=8192)
def _stems(hay: tuple[str, ...]) -> frozenset[str]:
    """Every `want` that `_word_eq(word, want)` accepts for some word of `hay`: the words themselves and
    their 4+ letter stems one to three letters shorter."""
    out: set[str] = set()
    for word in hay:
        out.add(word)
        out.update(word[:cut] for cut in range(max(4, len(word) - 3), len(word)))
    return frozenset(out)


def _contains(hay: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    n = len(needle)
    # Fast rejection (the common case): some word of the needle appears nowhere in the text.
    stems = _stems(hay)
    if not all(want in stems for want in needle):
        return False
    return any(all(_word_eq(hay[i + j], needle[j]) for j in range(n)) for i in range(len(hay) - n + 1))


def _quote(values: tuple[str, ...]) -> str:
    shown = "; ".join(values[:5]) + ("; …" if len(values) > 5 else "")
    return f"'{shown}'"


# ". " before a capital, not after a company-name abbreviation ("Ltd."); dot first, so look-behinds run only at dots.
_SENTENCE_END = re.compile(
    r"\.(?<!\bLtd\.)(?<!\bInc\.)(?<!\bCorp\.)(?<!\bCo\.)(?<!\bPlc\.)(?<!\bPLC\.)(?<!\bBhd\.)(?<!\bPty\.)"
    r"(?<!\bLtda\.)(?<!\bS\.A\.)(?<!\bN\.V\.)(?<!\bA\.S\.)(?<!\bA\.G\.)(?<!\bS\.p\.A\.)(?<!\bU\.S\.)(?<!\bSt\.)"
    r"(?<!\bNo\.)\s+(?=[A-Z])"
)


@lru_cache(maxsize=4096)
def _split_lead(text: str | None) -> tuple[str | None, str | None]:
    """The opening of a description (its first two sentences: "X operates as a mining company. It
    explores for gold ..." is how directory summaries state what a company does), and the rest."""
    if not text:
        return None, None
    parts = _SENTENCE_END.split(text, maxsplit=2)
    return ". ".join(parts[:2]), parts[2] if len(parts) > 2 else None


def _term_evidence(term: str, profile: CompanyProfile) -> _Evidence:
    own = words(term)
    variants = (own, *synonym_forms(term))
    for field, values in (("Industries", profile.industries), ("Tags", profile.tags)):
        for variant in variants:
            if any(_contains(words(v), variant) for v in values):
                via = "" if variant == own else f" (as '{' '.join(variant)}')"
                return _Evidence(5, f"{field} {_quote(values)} match '{term}'{via}.")
    lead, rest = _split_lead(profile.description)
    # What a company says first about itself (name, the opening sentences, its products) is good evidence
    # (4); a mention further into a long text is often about customers or partners ("software for banks"),
    # so it only reaches 3, which alone does not make a company high-fit.
    texts = (
        ("Name", profile.name, 4),
        ("Description", lead, 4),
        ("Products", profile.products, 4),
        ("Description", rest, 3),
        ("Full description", profile.full_description, 3),
    )
    for strength in (4, 3):
        for variant in variants:
            for field, text, weight in texts:
                if weight == strength and text and _contains(words(text), variant):
                    via = "" if variant == own else f" (related to '{term}')"
                    where = "" if strength == 4 else " (in passing, not in its opening)"
                    return _Evidence(strength, f"{field} mentions '{' '.join(variant)}'{via}{where}.")
        if strength == 4 and (quoted := _on_website(profile, variants)) is not None:
            return quoted
    significant = [w for w in own if w not in STOPWORDS and w not in GENERIC_NOUNS]
    if len(significant) > 1:
        every = tuple(words(" ".join(filter(None, (*profile.industries, *profile.tags, *(t for _, t, _ in texts))))))
        stems = _stems(every)  # `w in stems` is `any(_word_eq(h, w) for h in every)`, one lookup instead of a scan
        found = [w for w in significant if w in stems]
        if found:
            return _Evidence(3, f"Only part of '{term}' appears in the profile ({', '.join(found)}).")
    return _Evidence(1, f"No mention of '{term}' or related terms in the industries, tags or description.")


# What a company's website says is its own account of itself, as good as its opening description (4).
_QUOTE_CHARS = 240


def _on_website(profile: CompanyProfile, variants: tuple[tuple[str, ...], ...]) -> _Evidence | None:
    """The first website sentence that names a variant, quoted with its page."""
    for passage in profile.passages:
        if not any(_contains(words(passage.text), variant) for variant in variants):
            continue
        for sentence in _SENTENCE_END.split(passage.text):
            if any(_contains(words(sentence), variant) for variant in variants):
                quote = sentence.strip()
                if len(quote) > _QUOTE_CHARS:
                    quote = quote[:_QUOTE_CHARS].rsplit(" ", 1)[0] + " …"
                return _Evidence(4, f'Its website says: "{quote}" ({passage.url}).', passage.url)
    return None


def check_topics(topics: tuple[str, ...], profile: CompanyProfile) -> Check:
    """Grade topic evidence; several topics must all match, and the weakest one sets the grade."""
    src = cite(profile)
    has_data = profile.industries or profile.tags or profile.description or profile.full_description
    if not (has_data or profile.products or profile.passages):
        return Check(2, f"No industry, tag or description data {src} to check '{', '.join(topics)}' against.")
    found = [_term_evidence(t, profile) for t in topics]
    strengths = [e.strength for e in found]
    matched = sum(s >= 3 for s in strengths)
    if matched == len(found):
        grade = min(strengths)
    elif matched * 2 > len(found):
        grade = 3
    else:
        grade = 2 if matched else 1
    summary = " ".join(dict.fromkeys(e.sentence for e in found))  # one quote for topics found in one sentence
    if 0 < matched < len(found):
        summary += f" {matched} of {len(found)} topics matched."
    pages = tuple(dict.fromkeys(e.url for e in found if e.url))
    return Check(grade, f"{summary} {src}", pages)
