"""Source `web_search`: the plan's searches through the configured provider, results made into candidates.

A result is a company's own site (a candidate, keyed by registered domain), a page naming companies (read
through the guarded page reader; the companies it links are candidates), a profile on a directory (its
linked website is the candidate), or nothing to use (`web_results.classify`). The cursor is the position in
the plan's searches and the provider's pages, so a resumed task asks the next page, not the first again.
"""

from __future__ import annotations

from dataclasses import dataclass

from firmscout.domains import registered_domain
from firmscout.entities import SearchRequest, SourceHit
from firmscout.errors import SourceError
from firmscout.sources.base import SourcePage
from firmscout.sources.search.base import SearchProvider, SearchResult
from firmscout.sources.web_results import Kind, Named, classify, companies_named, website_on_profile
from firmscout.web.pages import PageReader

SOURCE_NAME = "web_search"
# Result pages asked per search: later pages of a search engine are mostly noise for a company query.
PAGES_PER_SEARCH = 3


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


class WebSearchSource:
    name = SOURCE_NAME

    def __init__(self, provider: SearchProvider, pages: PageReader | None, *, name: str = SOURCE_NAME) -> None:
        """`pages`: reads list and profile pages; without it (web reading off) only companies' own sites
        among the results become candidates."""
        self.name = name
        self._provider = provider
        self._pages = pages

    async def search(self, request: SearchRequest, cursor: str | None, limit: int) -> SourcePage:
        searches = request.searches or (request.query,)
        at = Position.parse(cursor)
        if at.search >= len(searches) or limit <= 0:
            return SourcePage((), None if at.search >= len(searches) else cursor)
        found = await self._provider.search(searches[at.search], at.page)
        hits: dict[str, SourceHit] = {}
        for result in found.results:
            for hit in await self._hits(result):
                hits.setdefault(hit.domain, hit)
        more = found.more and at.page + 1 < PAGES_PER_SEARCH
        following = Position(at.search, at.page + 1) if more else Position(at.search + 1, 0)
        next_cursor = str(following) if following.search < len(searches) else None
        return SourcePage(tuple(hits.values()), next_cursor, search_requests=1)

    async def _hits(self, result: SearchResult) -> list[SourceHit]:
        kind = classify(result.url, result.title)
        if kind is Kind.COMPANY:
            return [self._hit(result.url, result.title, result.snippet)]
        if result.website is not None and classify(result.website, "") is Kind.COMPANY:
            return [self._hit(result.website, result.title, result.snippet)]
        if self._pages is None or kind is Kind.NEVER:
            return []
        outcome = await self._pages.read(result.url)
        if outcome.facts is None:
            return []
        if kind is Kind.PROFILE:
            website = website_on_profile(outcome.facts)
            return [self._hit(website, _site_name(result.title), result.snippet)] if website else []
        return [self._named(named, result.url) for named in companies_named(outcome.facts)]

    def _hit(self, url: str, title: str, snippet: str) -> SourceHit:
        domain = registered_domain(url)
        assert domain is not None, "classify() makes a candidate only of a URL with a registered domain"
        return SourceHit(domain=domain, name=_site_name(title) or domain, source=self.name, url=url,
                         snippet=snippet or None)

    def _named(self, named: Named, page_url: str) -> SourceHit:
        return SourceHit(domain=named.domain, name=named.name or named.domain, source=self.name, url=named.url,
                         snippet=f"Named on {page_url}")


def _site_name(title: str) -> str:
    """A company's name from a page title: "Acme Robotics | Industrial arms" or "Acme Robotics | LinkedIn"
    → "Acme Robotics"."""
    for separator in (" | ", " - ", " – ", " — ", ": "):
        title = title.split(separator)[0]
    return " ".join(title.split())[:200]

