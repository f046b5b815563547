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
from firmscout.pipeline.local.vocabulary import (
    ALTERNATIVE_SEP,
    BUYER_PREFIX,
    GENERIC_NOUNS,
    PRODUCT_HEADS,
    STOPWORDS,
    WIDER,
    synonym_forms,
    words,
)


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


# Words before a mention that make it the company's customers, not its business: "linen for hotels",
# "payments to restaurants and retailers", "serving banks".
_CUSTOMER_CUES = frozenset({"for", "to", "serving", "serve", "serves", "customer", "client", "user", "supplier"})
_CUE_REACH = 3


# "For" and "serving" reach back to the start of their clause: "bottles and jars for still and sparkling
# wines, spirits, food products, beers" names customers however long the list.
_CLAUSE_CUES = frozenset({"for", "serving", "serve", "serves", "represent", "representing"})
# After a customer cue, a product's name followed by one of these is a trade of customers, not the product's
# use: "a recruitment agency for payroll software companies", "represents the solar panel industry".
_TRADE_NOUNS = frozenset({"company", "companie", "firm", "startup", "business", "maker", "manufacturer", "vendor",
                          "provider", "industry", "sector", "producer", "supplier", "brand"})
# ... but not after a verb that takes "for" as its object's marker: "explores for lithium" is a miner.
_SEEK = frozenset({"explore", "explores", "exploring", "exploration", "prospect", "prospecting", "search",
                   "searching", "drill", "drilling", "drills"})
_CLAUSE_END = re.compile(r"[.;:!?](?:\s|$)")


def _own_mention(text: str, needle: tuple[str, ...], product: bool = False) -> bool:
    """True when some mention of `needle` in `text` is not after a customer cue: within three words ("to
    hotels, restaurants and caterers"), or "for"/"serving" earlier in its clause. For a `product`, the cue
    counts only before a trade ("for payroll software companies"): "software for payroll" is its use."""
    n = len(needle)
    for clause in _CLAUSE_END.split(text):
        hay = words(clause)
        for i in range(len(hay) - n + 1):
            if all(_word_eq(hay[i + j], needle[j]) for j in range(n)):
                start = max(0, i - _CUE_REACH)
                before = hay[start:i]
                # "Semiconductors and semiconductor equipment" is a grouped label quoted in the text, not a claim.
                grouped = n > 1 and len(before) >= 2 and before[-1] == "and" and _word_eq(before[-2], needle[0])
                served = any(
                    (w in _CLAUSE_CUES or (k >= start and w in _CUSTOMER_CUES)) and (k == 0 or hay[k - 1] not in _SEEK)
                    for k, w in enumerate(hay[:i])
                )
                if product and served:
                    served = any(w in _TRADE_NOUNS for w in hay[i + n : i + n + 2])  # "payroll [software] firms"
                if not grouped and not served:
                    return True
    return False


def _quote(values: tuple[str, ...]) -> str:
    shown = "; ".join(values[:5]) + ("; …" if len(values) > 5 else "")
    return f"'{shown}'"


# ". " before a capital, not after a company-name abbreviation ("Ltd."); dot first, so look-behinds run only at dots.
_SENTENCE_END = re.compile(
    r"\.(?<!\bLtd\.)(?<!\bInc\.)(?<!\bCorp\.)(?<!\bCo\.)(?<!\bPlc\.)(?<!\bPLC\.)(?<!\bBhd\.)(?<!\bPty\.)"
    r"(?<!\bLtda\.)(?<!\bS\.A\.)(?<!\bN\.V\.)(?<!\bA\.S\.)(?<!\bA\.G\.)(?<!\bS\.p\.A\.)(?<!\bU\.S\.)(?<!\bSt\.)"
    r"(?<!\bNo\.)\s+(?=[A-Z])"
)


# A sentence about a company's other businesses: "It also provides money lending", "The company operates in
# two segments, Mobile Products, and Infrastructure and Defense Products".
_SIDE_LINES = re.compile(r"\b(?:also|segments?|divisions?|subsidiar(?:y|ies))\b", re.I)


@lru_cache(maxsize=4096)
def _split_lead(text: str | None) -> tuple[str | None, str | None]:
    """The opening of a description (its first two sentences: "X operates as a mining company. It
    explores for gold ..." is how directory summaries state what a company does), and the rest."""
    if not text:
        return None, None
    parts = _SENTENCE_END.split(text, maxsplit=2)
    # The second sentence says what the first left general, unless it turns to the side lines.
    opening = 2 if len(parts) > 1 and not _SIDE_LINES.search(parts[1]) else 1
    return ". ".join(parts[:opening]), ". ".join(parts[opening:]) or None


def _term_evidence(term: str, profile: CompanyProfile) -> _Evidence:
    own = words(term)
    variants = (own, *synonym_forms(term))
    grouped: str | None = None
    for field, values in (("Industries", profile.industries), ("Tags", profile.tags)):
        for variant in variants:
            for value in values:
                if not _contains(words(value), variant):
                    continue
                if _groups_with_broader(value, variant):
                    grouped = grouped or value
                    continue
                via = "" if variant == own else f" (as '{' '.join(variant)}')"
                return _Evidence(5, f"{field} {_quote(values)} match '{term}'{via}.")
    lead, rest = _split_lead(profile.description)
    # A product (its function: "payroll software") is what a company's longer text opens with ("X is a
    # payroll app for ..."), where a sector is a label or tag; there the opening counts as a description's.
    product = any(w in PRODUCT_HEADS for w in own)
    about, more = _split_lead(profile.full_description) if product else (None, profile.full_description)
    # What a company says first about itself (name, the opening sentences, its products) is good evidence
    # (4); a mention further into a long text is often about customers or partners ("software for banks"),
    # so it only reaches 3, which alone does not make a company high-fit.
    texts = (
        ("Name", profile.name, 4),
        ("Description", lead, 4),
        ("Products", profile.products, 4),
        ("Full description", about, 4),
        ("Description", rest, 3),
        ("Full description", more, 3),
    )
    as_customers: _Evidence | None = None
    for strength in (4, 3):
        for variant in variants:
            for field, text, weight in texts:
                if weight != strength or not text or not _contains(words(text), variant):
                    continue
                via = "" if variant == own else f" (related to '{term}')"
                # A product's function after "for" is its use, not its customer: "a solution for payroll".
                if weight == 4 and field != "Name" and not _own_mention(text, variant, product):
                    as_customers = as_customers or _Evidence(
                        3, f"{field} names '{' '.join(variant)}'{via} only as whom it serves or supplies.")
                    continue
                if strength == 3 and (label := _wider_label(term, profile)) is not None:
                    # A passing mention inside the company's own wider field is what it does, not a customer's
                    # trade: "Truckload" deep in a logistics company's summary.
                    return _Evidence(4, f"{field} mentions '{' '.join(variant)}'{via}, and its label '{label}' "
                                        "is the wider field.")
                where = "" if strength == 4 else " (in passing, not in its opening)"
                return _Evidence(strength, f"{field} mentions '{' '.join(variant)}'{via}{where}.")
        if strength == 4 and (quoted := _on_website(profile, variants, product)) is not None:
            return quoted
        if strength == 4 and as_customers is not None:
            return as_customers
    significant = [w for w in own if w not in STOPWORDS and w not in GENERIC_NOUNS]
    if len(significant) > 1 and (together := _words_together(significant, profile, texts)) is not None:
        return together
    if grouped is not None:
        return _Evidence(3, f"Industry '{grouped}' groups '{term}' with a broader category, and the description "
                            "does not say which applies.")
    if len(significant) > 1:
        every = tuple(words(" ".join(filter(None, (*profile.industries, *profile.tags, *(t for _, t, _ in texts))))))
        stems = _stems(every)  # `w in stems` is `any(_word_eq(h, w) for h in every)`, one lookup instead of a scan
        found = [w for w in significant if w in stems]
        if found:
            return _Evidence(3, f"Only part of '{term}' appears in the profile ({', '.join(found)}).")
    return _Evidence(1, f"No mention of '{term}' or related terms in the industries, tags or description.")


def _wider_label(term: str, profile: CompanyProfile) -> str | None:
    """An industry or tag naming the wider field of `term` ("Air Freight & Logistics" for trucking)."""
    wider = WIDER.get(words(term), ())
    labels = (*profile.industries, *profile.tags)
    return next((label for label in labels for form in wider if _contains(words(label), form)), None)


_LABEL_PARTS = re.compile(r"\s*(?:&|,|/|;|\band\b)\s*", re.I)


def _groups_with_broader(label: str, variant: tuple[str, ...]) -> bool:
    """True when `variant` matches only a specific part of a label that also lists a broader part:
    "Semiconductors & Semiconductor Equipment" names chip designers and equipment makers alike, so it does
    not show that a company makes semiconductor equipment."""
    parts = [words(p) for p in _LABEL_PARTS.split(label) if p.strip()]
    if len(parts) < 2:
        return False
    matched = False
    for part in parts:
        if not _contains(part, variant):
            continue
        matched = True
        broader = [q for q in parts if q != part and len(q) < len(part) and all(w in _stems(part) for w in q)]
        if not broader:
            return False  # a part names it on its own: a clear label match
    return matched


def _words_together(
    significant: list[str], profile: CompanyProfile, texts: tuple[tuple[str, str | None, int], ...]
) -> _Evidence | None:
    """Every word of a phrase the text does not spell out, within one label or one text ("Fanuc makes
    robots for industrial use" for "industrial robots"). Words spread over different labels do not count:
    the sector label "Industrials" says nothing about robots."""
    spelled = tuple(significant)

    def together(text: str) -> bool:
        # The words themselves: a synonym of each word apart is a sibling field as often as not ("utility"
        # has "power" beside it, and "water ... power" is no water utility). A text spelling the phrase out
        # was judged as a mention already (a grouped label, or its customers', does not count here).
        hay = words(text)
        stems = _stems(hay)
        return all(w in stems for w in significant) and not _contains(hay, spelled)

    for field, values in (("Industries", profile.industries), ("Tags", profile.tags)):
        if (value := next((v for v in values if together(v)), None)) is not None:
            return _Evidence(5, f"{field} entry '{value}' names {' and '.join(significant)}.")
    for strength in (4, 3):
        for field, text, weight in texts:
            if weight == strength and text and together(text):
                where = "" if strength == 4 else " (in passing, not in its opening)"
                return _Evidence(strength, f"{field} names {' and '.join(significant)}{where}.")
    for passage in profile.passages:
        if together(passage.text):
            return _Evidence(4, f"Its website names {' and '.join(significant)} ({passage.url}).", passage.url)
    return None


def _buyer_evidence(term: str, profile: CompanyProfile) -> _Evidence:
    """Who a product is for, from what the company says about its customers: tags and the opening say it
    plainly (5), a later mention or its website in passing (4). Its own industry label naming the buyer
    means it *is* one ("Restaurants" is a restaurant chain, not a supplier to them)."""
    own = words(term)
    variants = (own, *synonym_forms(term))
    lead, rest = _split_lead(profile.description)
    texts = (("Tags", " ; ".join(profile.tags), 5), ("Name", profile.name, 5), ("Description", lead, 5),
             ("Products", profile.products, 5), ("Description", rest, 4),
             ("Full description", profile.full_description, 4))
    for variant in variants:
        for field, text, strength in texts:
            if text and _contains(words(text), variant):
                return _Evidence(strength, f"{field} names its customers or use: '{' '.join(variant)}' "
                                           f"(for '{term}').")
    quoted = _on_website(profile, variants)
    if quoted is not None:
        return quoted
    if any(_contains(words(v), variant) for v in profile.industries for variant in variants):
        return _Evidence(2, f"Industries {_quote(profile.industries)} name '{term}': the company is one, "
                            "nothing says it sells to them.")
    return _Evidence(3, f"Nothing says it serves '{term}' (its customers are not described).")


def _topic_evidence(topic: str, profile: CompanyProfile) -> _Evidence:
    """A topic of the parser's mini-language: "a | b" is met by either, "for y" is a buyer."""
    found = [
        _buyer_evidence(t.removeprefix(BUYER_PREFIX), profile) if t.startswith(BUYER_PREFIX)
        else _term_evidence(t, profile)
        for t in topic.split(ALTERNATIVE_SEP)
    ]
    return max(found, key=lambda e: e.strength)


# What a company's website says is its own account of itself, as good as its opening description (4).
_QUOTE_CHARS = 240


def _on_website(
    profile: CompanyProfile, variants: tuple[tuple[str, ...], ...], product: bool = False
) -> _Evidence | None:
    """The first website sentence that names a variant as the company's own business (not its customers'),
    quoted with its page."""
    for passage in profile.passages:
        if not any(_contains(words(passage.text), variant) for variant in variants):
            continue
        for sentence in _SENTENCE_END.split(passage.text):
            if any(_contains(words(sentence), variant) and _own_mention(sentence, variant, product)
                   for variant in variants):
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
    found = [_topic_evidence(t, profile) for t in topics]
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
