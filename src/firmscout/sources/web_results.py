"""What a web search result is: a company's own site, a page naming companies, a profile, or nothing to use.

Pure: known sites come from `web_domains.txt`; an unknown site is a list page when its title reads like one
("Top 10 …", "best … companies") or, once read, when it links many other companies' sites.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from functools import cache
from importlib import resources
from urllib.parse import urlsplit

from firmscout.domains import registered_domain
from firmscout.web.extract import Link, PageFacts

# A page linking this many other registered domains is a list, whatever its title says.
LIST_MIN_DOMAINS = 5


class Kind(Enum):
    COMPANY = "company"  # the company's own site: a candidate
    LIST = "list"  # a page naming companies: read it, its outbound links are candidates
    PROFILE = "profile"  # a company's page on a directory (LinkedIn, Crunchbase, Wikipedia): it links the website
    NEVER = "never"  # social networks, marketplaces, job boards, search engines, shorteners: nothing to take


@cache
def _known() -> dict[str, Kind]:
    """Host or registered domain → what its pages are."""
    known: dict[str, Kind] = {}
    section: Kind | None = None
    text = resources.files("firmscout.sources").joinpath("web_domains.txt").read_text(encoding="utf-8")
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip().lower()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            section = Kind(line[1:-1])
            continue
        assert section is not None, "web_domains.txt: a domain before any [section]"
        known[line] = section
    return known


def known_kind(url: str) -> Kind | None:
    """What the shipped list says of the URL's host (or any domain above it), None for a site it does not know."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    labels = host.split(".")
    for i in range(len(labels) - 1):
        kind = _known().get(".".join(labels[i:]))
        if kind is not None:
            return kind
    return None


# Words that make a title a list only together with a plural company noun ("Top 10 …", "best … companies").
_RANKING = re.compile(r"\b(?:top|best|list of|leading|largest|biggest|fastest[- ]growing|notable|\d{1,3})\b", re.I)
_PLURAL = re.compile(r"\b(?:companies|startups|vendors|providers|suppliers|manufacturers|firms|brands|players|"
                     r"tools|platforms|alternatives|competitors|directory)\b", re.I)


def classify(url: str, title: str) -> Kind:
    """A result by its URL and title: the shipped list first, then a title that ranks or lists companies."""
    if registered_domain(url) is None:
        return Kind.NEVER
    known = known_kind(url)
    if known is not None:
        return known
    if _RANKING.search(title) and _PLURAL.search(title):
        return Kind.LIST
    return Kind.COMPANY


@dataclass(frozen=True)
class Named:
    """A company a list page names: its site's registered domain, the link's text, the URL linked."""

    domain: str
    name: str
    url: str


# Link texts that label navigation, not a company.
_NAVIGATION = re.compile(
    r"^(?:home|about|about us|contact|contact us|privacy|privacy policy|terms|terms of (?:use|service)|cookies?|"
    r"login|log in|sign in|sign up|register|subscribe|newsletter|careers|jobs|blog|news|press|help|faq|"
    r"read more|learn more|more|click here|here|website|visit website|visit|share|tweet|follow us|next|previous)$",
    re.IGNORECASE,
)


def _outbound(facts: PageFacts) -> Iterator[tuple[str, Link]]:
    """(registered domain, link) of a page's links to other sites the shipped list does not know."""
    own = registered_domain(facts.url)
    for link in facts.links:
        domain = registered_domain(link.url)
        if domain is not None and domain != own and known_kind(link.url) is None:
            yield domain, link


def companies_named(facts: PageFacts) -> list[Named]:
    """The companies a list page links to: outbound links to sites that are not media, profiles or social
    networks, one per registered domain, named by the link's text; empty when the page links fewer than
    LIST_MIN_DOMAINS such sites (then it is an article, not a list)."""
    found: dict[str, Named] = {}
    for domain, link in _outbound(facts):
        name = " ".join(link.text.split())
        if _NAVIGATION.match(name):
            name = ""
        current = found.get(domain)
        if current is None or (not current.name and name):
            found[domain] = Named(domain, name[:200], link.url)
    return list(found.values()) if len(found) >= LIST_MIN_DOMAINS else []


def website_on_profile(facts: PageFacts) -> str | None:
    """The official website a profile page links (the first outbound link to an unknown site); None if none."""
    return next((link.url for _, link in _outbound(facts)), None)
