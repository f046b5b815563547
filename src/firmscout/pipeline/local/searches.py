"""The web searches a task runs, from its parsed query: deterministic, stored in the plan, shown by `explain`.

Search engines answer a company query with a mix of companies' own sites, rankings and directories; the
phrasings below ask for each on purpose: the query as typed, the topic with its place and a company noun,
list pages ("list of", "top"), and directories. A relationship query asks for the reference's competitors
and alternatives.
"""

from __future__ import annotations

from firmscout.pipeline.local.query_parser import ParsedQuery

_COMPANY_NOUNS = frozenset({
    "company", "companie", "startup", "maker", "manufacturer", "provider", "vendor", "firm", "supplier", "contractor",
    "producer", "platform", "tool", "app", "agency", "bank", "brand", "retailer", "operator", "developer", "studio",
})
# Searches per task: each is a provider request (and pages of it), which costs money on most providers.
MAX_SEARCHES = 6


def web_searches(query: str, parsed: ParsedQuery) -> tuple[str, ...]:
    typed = " ".join(query.split())
    found: list[str] = [typed] if typed else []
    place = f" in {' and '.join(parsed.places)}" if parsed.places else ""
    if parsed.reference:
        named = parsed.reference
        found += [f"{named} competitors", f"{named} alternatives", f"companies like {named}{place}"]
    elif parsed.focus:
        topic = parsed.focus
        noun = "" if _names_companies(topic) else " companies"
        found += [
            f"{topic}{noun}{place}",
            f"list of {topic}{noun}{place}",
            f"top {topic}{noun}{place}",
            f"{topic}{noun} directory{place}",
        ]
    return tuple(dict.fromkeys(s for s in found if s))[:MAX_SEARCHES]


def _names_companies(topic: str) -> bool:
    """The topic already holds a company noun ("semiconductor equipment makers", "SaaS companies serving …")."""
    return any(word.rstrip("s") in _COMPANY_NOUNS for word in topic.lower().split())

