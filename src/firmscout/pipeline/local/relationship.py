"""Relationship queries ("competitors of Stripe"): the reference company's profile turned into a criterion.

The lookalike ranker finds the candidates; this grades them the way every other topic is graded, against
what the reference is labelled and says it sells, so each grade quotes the label or sentence it rests on.
"""

from __future__ import annotations

from dataclasses import replace

from firmscout.entities import CRITERION_TEXT_MAX, CompanyProfile, Criterion, Plan
from firmscout.geography import lexicon
from firmscout.lookalike import scoring
from firmscout.pipeline.local.checks import Check, cite
from firmscout.pipeline.local.criteria import REFERENCE_KEY
from firmscout.pipeline.local.topic_match import check_topics
from firmscout.pipeline.local.vocabulary import ALTERNATIVE_SEP, fold

# Directory labels that say how a company sells, not what: sharing one makes no two companies alike.
_GENERIC_LABELS = frozenset(
    {"b2b", "b2c", "saas", "enterprise", "consumer", "marketplace", "ai", "artificial intelligence",
     "artificial-intelligence", "machine learning", "machine-learning", "generative ai", "generative-ai",
     "analytics", "mobile", "platform", "software", "technology", "information technology", "internet",
     "services", "enterprise software", "api", "apis", "hardware", "sustainability", "diversity"}
)
_MAX_TOPICS = 6


def reference_topics(reference: CompanyProfile) -> tuple[str, ...]:
    """What the reference is: its specific industry labels and tags, then the first product it names."""
    topics: list[str] = []
    for label in (*reference.industries, *reference.tags):
        topic = " ".join(fold(label).replace("-", " ").split())
        if topic and topic not in _GENERIC_LABELS and topic not in topics:
            topics.append(topic)
    if reference.products:
        first = " ".join(fold(reference.products.split(";")[0].split(",")[0]).split())
        if first and first not in topics:
            topics.append(first)
    if not topics and reference.description:
        # A profile with neither labels nor products (one read from its website): the word pairs of its
        # opening sentence that are neither its name nor a place ("collaborative workspace").
        own = set(scoring.words(reference.name)) | set(scoring.words(reference.domain.split(".")[0]))
        opening = reference.description.split(". ")[0]
        pairs = [t for t in scoring.terms(opening) if " " in t and not own & set(t.split())]
        topics.extend(p for p in pairs if lexicon().get(tuple(p.split())) is None)
    return tuple(dict.fromkeys(topics).keys())[:_MAX_TOPICS]


def _what(reference: CompanyProfile) -> str:
    text = reference.description or reference.products or ", ".join(reference.industries or reference.tags)
    text = " ".join(text.split())
    return text if len(text) <= 160 else text[:159].rsplit(" ", 1)[0] + "…"


def with_reference(plan: Plan, reference: CompanyProfile) -> Plan:
    """The plan of a relationship query once its reference is found: the criterion names who it is."""
    what = _what(reference)
    sentence = f"The company offers a core product like {reference.name}'s ({reference.domain}"
    sentence += f": {what}) to similar buyers." if what else ") to similar buyers."
    if len(sentence) > CRITERION_TEXT_MAX:
        sentence = sentence[: CRITERION_TEXT_MAX - 1] + "…"
    criteria = tuple(
        Criterion(c.key, c.name, sentence) if c.key == REFERENCE_KEY and plan.criteria_inferred else c
        for c in plan.criteria
    )
    return replace(plan, criteria=criteria, reference=reference)


def check_reference(plan: Plan, profile: CompanyProfile) -> Check:
    """How much the profile is a lookalike of the plan's reference, from labels and text."""
    reference = plan.reference
    if reference is None:
        return Check(2, "The company this query compares with is not in the company database, so likeness to it "
                        f"cannot be judged {cite(profile)}.")
    if profile.domain == reference.domain:
        return Check(1, f"This is {reference.name} itself, not a company like it {cite(profile)}.")
    topics = reference_topics(reference)
    if not topics:
        return Check(2, f"{reference.name}'s profile names no industry, tag or product to compare with "
                        f"{cite(profile)}.")
    found = check_topics((ALTERNATIVE_SEP.join(topics),), profile)
    return Check(found.grade, f"Like {reference.name}: {found.explanation}", found.sources)
