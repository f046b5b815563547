"""The search-provider contracts: a query and a page in, ranked web results (or local businesses) out.

Providers are plain httpx clients of public HTTP APIs (SearXNG, Brave, Tavily, Exa, Serper; Serper places and
Google Places for maps) or the keyless `ddgs` package. They never fetch the pages they list: a result is an
untrusted URL, read later (if at all) through the guarded fetcher.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from firmscout.errors import SourceError

__all__ = ["Place", "PlacePage", "PlaceSearch", "ProviderError", "ResultPage", "SearchProvider", "SearchResult"]


@dataclass(frozen=True)
class SearchResult:
    url: str
    title: str
    snippet: str
    # The website a knowledge panel names for the query (Serper's knowledgeGraph.website), when the provider
    # shows one: a free name → domain lookup.
    website: str | None = None


@dataclass(frozen=True)
class ResultPage:
    results: tuple[SearchResult, ...]
    # False when the provider says there is nothing after this page (or cannot page at all).
    more: bool
    # What the provider reported beside the results that a user should know ("engine X unresponsive: ...").
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Place:
    """A local business from a places endpoint (Serper places, Google Places)."""

    name: str
    website: str | None
    address: str | None
    phone: str | None
    category: str | None
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class PlacePage:
    places: tuple[Place, ...]
    # False when the provider has nothing after this page.
    more: bool
    # What to pass as `token` for the next page when the provider pages by token (Google's nextPageToken).
    next_token: str | None = None


class ProviderError(SourceError):
    """A search provider failed: the message names the provider and the reason (and the setting to fix when
    it is one). `transient` as for any source: a 429 or a 5xx is worth trying again later, a 401 is not."""


class SearchProvider(Protocol):
    name: str  # the setting's value: "searxng", "brave", ...
    # Longest query the provider accepts (Brave and Tavily: 400 characters); longer ones are cut at a word.
    max_query_chars: int | None

    async def search(self, query: str, page: int) -> ResultPage:
        """Results of page `page` (0 is the first). Raises ProviderError."""
        ...

    async def aclose(self) -> None: ...


class PlaceSearch(Protocol):
    name: str  # the setting's value: "serper", "google"

    async def places(self, query: str, page: int, token: str | None = None) -> PlacePage:
        """Local businesses for `query` (a business kind and a place), page `page` from 0. A provider that
        pages by token (Google) needs the previous page's `next_token` in `token` and has no page past the
        first without it; one that pages by number (Serper) ignores it. Raises ProviderError."""
        ...

    async def aclose(self) -> None: ...
