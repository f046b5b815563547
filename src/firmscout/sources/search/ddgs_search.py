"""The keyless `ddgs` metasearch package (the `[ddgs]` extra): it scrapes result pages, so it is synchronous
and often rate-limited; it runs in a thread, paced like the HTTP providers."""

from __future__ import annotations

import asyncio
from typing import Any

from firmscout.sources.search.base import ProviderError, ResultPage, SearchResult
from firmscout.sources.search.http import Pace

PER_PAGE = 20
LAST_PAGE = 4
INSTALL_HINT = "pip install 'firmscout[ddgs]'"


def _client() -> Any:
    try:
        from ddgs import DDGS
    except ImportError:
        raise ProviderError(f"Search provider 'ddgs' is not installed: {INSTALL_HINT}.") from None
    return DDGS()


class DdgsProvider:
    name = "ddgs"
    max_query_chars: int | None = 500

    def __init__(self, interval_s: float, make: Any = _client) -> None:
        self._pace = Pace(interval_s)
        self._make = make
        _ = make()  # fail at start when the extra is missing, not in the middle of a task

    async def search(self, query: str, page: int) -> ResultPage:
        if page > LAST_PAGE:
            return ResultPage((), more=False)
        await self._pace.wait()
        wanted = PER_PAGE * (page + 1)
        try:
            found = await asyncio.to_thread(lambda: self._make().text(query[: self.max_query_chars],
                                                                      max_results=wanted))
        except ProviderError:
            raise
        except Exception as exc:  # ddgs raises its own exception types (rate limits, timeouts) and plain ones
            transient = "ratelimit" in type(exc).__name__.lower() or "timeout" in type(exc).__name__.lower()
            raise ProviderError(f"Search provider 'ddgs' failed ({type(exc).__name__}: {exc})",
                                transient=transient) from None
        rows = [r for r in (found or []) if isinstance(r, dict) and isinstance(r.get("href"), str)]
        results = tuple(SearchResult(url=r["href"], title=str(r.get("title") or ""), snippet=str(r.get("body") or ""))
                        for r in rows[PER_PAGE * page : wanted])
        return ResultPage(results, more=len(rows) >= wanted and page < LAST_PAGE)

    async def aclose(self) -> None:
        return None
