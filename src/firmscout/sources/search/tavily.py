"""Tavily: `POST /search` with a JSON body, key as a bearer token; one page, up to 20 results."""

from __future__ import annotations

from firmscout.sources.search.base import ResultPage, SearchResult
from firmscout.sources.search.http import ProviderClient, cut_query, items

BASE_URL = "https://api.tavily.com"
MAX_RESULTS = 20


def explain(status: int, body: str) -> str | None:
    if status in (401, 403):
        return f"rejected the API key (HTTP {status}): set FIRMSCOUT_WEB__SEARCH_API_KEY to a Tavily key (tvly-…)."
    if status == 432 or status == 433:
        return f"refused the search: the plan's credits are used up (HTTP {status})."
    return None


class TavilyProvider:
    name = "tavily"
    max_query_chars: int | None = 400

    def __init__(self, api_key: str, client: ProviderClient, base_url: str = BASE_URL) -> None:
        self._url = base_url.rstrip("/") + "/search"
        self._headers = {"Authorization": f"Bearer {api_key}"}
        self._client = client

    async def search(self, query: str, page: int) -> ResultPage:
        if page > 0:  # Tavily does not page
            return ResultPage((), more=False)
        data = await self._client.request_json(
            "POST", self._url, headers=self._headers,
            body={"query": cut_query(query, self.max_query_chars), "search_depth": "basic",
                  "max_results": MAX_RESULTS},
        )
        results = tuple(
            SearchResult(url=r["url"], title=str(r.get("title") or ""), snippet=str(r.get("content") or ""))
            for r in items(data, "results") if isinstance(r.get("url"), str)
        )
        return ResultPage(results, more=False)

    async def aclose(self) -> None:
        await self._client.aclose()
