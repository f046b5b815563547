"""Topic evidence: does the profile's industries, tags or text name a topic or one of its synonyms?

Industry labels and tags are curated classifications, so a match there is the strongest evidence (5);
a mention in the name, description or products is good evidence (4); only some words of a
multi-word topic appearing is weak (3); nothing is a miss (1).
"""

from __future__ import annotations

from dataclasses import dataclass

from firmscout.entities import CompanyProfile
from firmscout.pipeline.local.checks import Check, cite
from firmscout.pipeline.local.vocabulary import GENERIC_NOUNS, STOPWORDS, synonym_forms, words


@dataclass(frozen=True)
class _Evidence:
    strength: int
    sentence: str


def _word_eq(have: str, want: str) -> bool:
    # A short suffix on a 4+ letter stem is the same word ("bank" / "banking", "chemical" / "chemically").
    return have == want or (len(want) >= 4 and have.startswith(want) and len(have) - len(want) <= 3)


def _contains(hay: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    n = len(needle)
    return any(all(_word_eq(hay[i + j], needle[j]) for j in range(n)) for i in range(len(hay) - n + 1))


def _quote(values: tuple[str, ...]) -> str:
    shown = "; ".join(values[:5]) + ("; …" if len(values) > 5 else "")
    return f"'{shown}'"


def _term_evidence(term: str, profile: CompanyProfile) -> _Evidence:
    own = words(term)
    variants = (own, *synonym_forms(term))
    for field, values in (("Industries", profile.industries), ("Tags", profile.tags)):
        for variant in variants:
            if any(_contains(words(v), variant) for v in values):
                via = "" if variant == own else f" (as '{' '.join(variant)}')"
                return _Evidence(5, f"{field} {_quote(values)} match '{term}'{via}.")
    texts = (
        ("Name", profile.name),
        ("Description", profile.description),
        ("Products", profile.products),
        ("Full description", profile.full_description),
    )
    for variant in variants:
        for field, text in texts:
            if text and _contains(words(text), variant):
                via = "" if variant == own else f" (related to '{term}')"
                return _Evidence(4, f"{field} mentions '{' '.join(variant)}'{via}.")
    significant = [w for w in own if w not in STOPWORDS and w not in GENERIC_NOUNS]
    if len(significant) > 1:
        every = tuple(words(" ".join(filter(None, (*profile.industries, *profile.tags, *(t for _, t in texts))))))
        found = [w for w in significant if any(_word_eq(h, w) for h in every)]
        if found:
            return _Evidence(3, f"Only part of '{term}' appears in the profile ({', '.join(found)}).")
    return _Evidence(1, f"No mention of '{term}' or related terms in the industries, tags or description.")


def check_topics(topics: tuple[str, ...], profile: CompanyProfile) -> Check:
    """Grade topic evidence; several topics must all match, and the weakest one sets the grade."""
    src = cite(profile)
    has_data = profile.industries or profile.tags or profile.description or profile.full_description
    if not (has_data or profile.products):
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
    summary = " ".join(e.sentence for e in found)
    if 0 < matched < len(found):
        summary += f" {matched} of {len(found)} topics matched."
    return Check(grade, f"{summary} {src}")
