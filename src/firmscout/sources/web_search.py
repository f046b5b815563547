"""Source `web_search`: the plan's searches through the configured provider, results made into candidates.

A result is a company's own site (a candidate, keyed by registered domain), a page naming companies (read
through the guarded page reader; the companies it links are candidates, read by an LLM when one is configured),
a profile on a directory (its linked website is the candidate), or nothing to use (`web_results.classify`).
The cursor is the position in the plan's searches and the provider's pages, so a resumed task asks the next
page, not the first again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol
from urllib.parse import urlsplit

from firmscout.domains import registered_domain
from firmscout.entities import SearchRequest, SourceHit, TokenUsage
from firmscout.errors import LLMError, SourceError
from firmscout.names import names_agree
from firmscout.sources.base import SourcePage
from firmscout.sources.search.base import SearchProvider, SearchResult
from firmscout.sources.web_results import Kind, Named, classify, companies_named, website_on_profile
from firmscout.web.extract import Link, PageFacts
from firmscout.web.pages import PageOutcome, PageReader

log = logging.getLogger(__name__)

SOURCE_NAME = "web_search"
LINKEDIN = "linkedin"
# Result pages asked per search: later pages of a search engine are mostly noise for a company query.
PAGES_PER_SEARCH = 3
# The plan's searches the linkedin source asks, each restricted to LinkedIn company pages.
LINKEDIN_SEARCHES = 2
_LINKEDIN_COMPANY = "site:linkedin.com/company"


@dataclass(frozen=True)
class Position:
    search: int  # index into the plan's searches
    page: int  # the provider's page of that search

    def __str__(self) -> str:
        return f"{self.search}:{self.page}"

    @classmethod
    def parse(cls, cursor: str | None) -> Position:
        if cursor is None:
            return cls(0, 0)
        search, _, page = cursor.partition(":")
        if not (search.isdigit() and page.isdigit()):
            raise SourceError(f"Invalid cursor {cursor!r} for source {SOURCE_NAME!r}: expected SEARCH:PAGE.")
        return cls(int(search), int(page))

    def after(self, more: bool, searches: int, pages_per_search: int) -> str | None:
        """The cursor of the next page: this search's next page while it has more, else the next search's
        first; None after the last search."""
        following = Position(self.search, self.page + 1) if more and self.page + 1 < pages_per_search else \
            Position(self.search + 1, 0)
        return str(following) if following.search < searches else None

    def next_search(self, searches: int) -> str:
        """The next search's first page; past the last search, a cursor at which the source has nothing more."""
        return str(Position(min(self.search + 1, searches), 0))


class ListReader(Protocol):
    """Reads the companies a list page names (`llm.list_extraction.LLMListReader`).

    Returns them as links (URL: the page's link to the company's site, text: its name as the page writes it),
    each URL one of `links` or on its registered domain, and the tokens the reading cost. Error contract:
    `LLMError` when the page cannot be read; the source then takes the links' anchor text instead."""

    async def companies(self, facts: PageFacts, links: Sequence[Link]) -> tuple[list[Link], TokenUsage]: ...


@dataclass
class _Spent:
    requests: int
    left: int | None  # the task's search budget before this page
    usage: TokenUsage = field(default_factory=TokenUsage)  # LLM tokens spent reading list pages
    pages_left: int | None = None  # the task's page budget before this page
    pages: int = 0  # pages fetched (or reserved for a read in flight); cache hits are free
    bytes: int = 0


class WebSearchSource:
    """`web_search`, or with `linkedin` the `linkedin` source: the plan's first searches restricted to
    LinkedIn company pages, each resolved to the company's website (the page's link to it, else a search for
    its official website whose homepage bears its name); nothing that needs a LinkedIn login."""

    name = SOURCE_NAME

    def __init__(self, provider: SearchProvider, pages: PageReader | None, *, linkedin: bool = False,
                 lists: ListReader | None = None) -> None:
        """`pages`: reads list and profile pages; without it (web reading off) only companies' own sites
        among the results become candidates. `lists`: reads the companies on list pages (an LLM); without it
        they are the pages' outbound links, named by their anchor text."""
        self.name = LINKEDIN if linkedin else SOURCE_NAME
        self._linkedin = linkedin
        self._provider = provider
        self._pages = pages
        self._lists = lists

    def _searches(self, request: SearchRequest) -> tuple[str, ...]:
        planned = request.searches or (request.query,)
        if not self._linkedin:
            return planned
        return tuple(f"{_LINKEDIN_COMPANY} {s}" for s in planned[:LINKEDIN_SEARCHES])

    async def search(self, request: SearchRequest, cursor: str | None, limit: int) -> SourcePage:
        # This page's provider requests, LLM tokens and page loads; lookups and reads add to them.
        spent = _Spent(1, request.searches_left, pages_left=request.pages_left)
        page = await self._page(request, cursor, limit, spent)
        return replace(page, usage=spent.usage, pages_fetched=spent.pages, bytes_fetched=spent.bytes)

    async def _page(self, request: SearchRequest, cursor: str | None, limit: int, spent: _Spent) -> SourcePage:
        searches = self._searches(request)
        at = Position.parse(cursor)
        if request.searches_left is not None and request.searches_left <= 0:
            return SourcePage((), None)  # the task's search budget is spent (its stop_reason says so)
        if at.search >= len(searches) or limit <= 0:
            return SourcePage((), None if at.search >= len(searches) else cursor)
        found = await self._provider.search(searches[at.search], at.page)
        if self._linkedin:  # one at a time: a lookup search spends budget that the next result may not have
            made = [await self._from_linkedin(result, spent) for result in found.results]
        else:  # results' pages are read at once (the fetcher keeps each host's pace); gather keeps their order
            made = await asyncio.gather(*(self._hits(result, spent) for result in found.results))
        hits: dict[str, SourceHit] = {}
        for hit in (hit for some in made for hit in some):
            hits.setdefault(hit.domain, hit)
        next_cursor = at.after(found.more, len(searches), PAGES_PER_SEARCH)
        return SourcePage(tuple(hits.values()), next_cursor, search_requests=spent.requests, notes=found.notes,
                          skip_cursor=at.next_search(len(searches)))

    async def _from_linkedin(self, result: SearchResult, spent: _Spent) -> list[SourceHit]:
        if not _is_linkedin_company(result.url) or self._pages is None:
            return []
        name = _site_name(result.title)
        outcome = await self._read(result.url, spent)
        website = website_on_profile(outcome.facts) if outcome is not None and outcome.facts is not None else None
        left = spent.left
        if website is None and name and (left is None or spent.requests < left):
            website = await self._official_website(name, spent)
        return [self._hit(website, name, result.snippet)] if website else []

    async def _official_website(self, name: str, spent: _Spent) -> str | None:
        """The site a search for "<name> official website" finds whose homepage bears the name."""
        assert self._pages is not None
        spent.requests += 1
        found = await self._provider.search(f"{name} official website", 0)
        for result in found.results[:5]:
            if classify(result.url, result.title) is not Kind.COMPANY:
                continue
            domain = registered_domain(result.url)
            home = await self._read(domain or result.url, spent, site=True)
            named = (home.facts.name.value if home is not None and home.facts is not None and home.facts.name
                     is not None else None)
            if isinstance(named, str) and names_agree(named, name):
                return result.url
        return None

    async def _hits(self, result: SearchResult, spent: _Spent) -> list[SourceHit]:
        kind = classify(result.url, result.title)
        if kind is Kind.COMPANY:
            return [self._hit(result.url, result.title, result.snippet)]
        if result.website is not None and classify(result.website, "") is Kind.COMPANY:
            return [self._hit(result.website, result.title, result.snippet)]
        if self._pages is None or kind is Kind.NEVER:
            return []
        outcome = await self._read(result.url, spent)
        if outcome is None or outcome.facts is None:
            return []
        if kind is Kind.PROFILE:
            website = website_on_profile(outcome.facts)
            # No snippet: a profile's result may be an article about a field that merely links a site ("Solar
            # power in Spain - Wikipedia"); the company's own website describes it.
            return [self._hit(website, _site_name(result.title), "")] if website else []
        named, usage = await companies_listed(outcome.facts, self._lists)
        spent.usage += usage
        return [self._named(company) for company in named]

    async def _read(self, url: str, spent: _Spent, *, site: bool = False) -> PageOutcome | None:
        """A result's page through the page reader, counted as the website reads are (a page with facts, not
        from the cache); None once the task's page budget is spent."""
        assert self._pages is not None
        if spent.pages_left is not None and spent.pages >= spent.pages_left:
            return None
        spent.pages += 1  # reserved before the read, so results read at once never overdraw the budget
        outcome = await self._pages.read(url, site=site)
        if outcome.facts is None or outcome.cached:
            spent.pages -= 1
        else:
            spent.bytes += outcome.bytes
        return outcome

    def _hit(self, url: str, title: str, snippet: str) -> SourceHit:
        domain = registered_domain(url)
        assert domain is not None, "classify() makes a candidate only of a URL with a registered domain"
        return SourceHit(domain=domain, name=_site_name(title) or domain, source=self.name, url=url,
                         snippet=snippet or None)

    def _named(self, named: Named) -> SourceHit:
        # No snippet: the page's words (or its URL's) say what the list is about, not what this company does;
        # its own website does.
        return SourceHit(domain=named.domain, name=named.name or named.domain, source=self.name, url=named.url)


async def companies_listed(facts: PageFacts, lists: ListReader | None) -> tuple[list[Named], TokenUsage]:
    """The companies a list page names, and the LLM tokens that cost: read by `lists` when there is one, its
    sites checked once more against the shipped list; else, or when it fails, the page's outbound links named
    by their anchor text (`web_results.companies_named`)."""
    offered = [link for link in facts.links if _listed_domain(link.url, facts.url)]
    if lists is None or not offered:
        return companies_named(facts), TokenUsage()
    try:
        listed, usage = await lists.companies(facts, offered)
    except LLMError as exc:
        log.warning("list page %s not read by the LLM (%s); taking its links' anchor text", facts.url, exc.message)
        return companies_named(facts), TokenUsage()
    # The LLM's reading replaces the anchor-text one, not added to it: that would bring back sidebar and ad links.
    return [Named(domain, link.text, link.url) for link in listed
            if (domain := _listed_domain(link.url, facts.url))], usage


def _listed_domain(url: str, page_url: str) -> str | None:
    """The registered domain of a site a list page links that may be a candidate: another site than the page's,
    and none the shipped list knows (social networks, directories, media); else None."""
    domain = registered_domain(url)
    return domain if domain != registered_domain(page_url) and classify(url, "") is Kind.COMPANY else None


def _is_linkedin_company(url: str) -> bool:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return (host == "linkedin.com" or host.endswith(".linkedin.com")) and parts.path.startswith("/company/")


def _site_name(title: str) -> str:
    """A company's name from a page title: "Acme Robotics | Industrial arms" or "Acme Robotics | LinkedIn"
    → "Acme Robotics"."""
    for separator in (" | ", " - ", " – ", " — ", ": "):
        title = title.split(separator)[0]
    return " ".join(title.split())[:200]

