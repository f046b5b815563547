"""Brave Search API: `GET /res/v1/web/search?q=…&count=20&offset=N`, key in `X-Subscription-Token`."""

from __future__ import annotations

import re

from firmscout.sources.search.base import ResultPage, SearchResult
from firmscout.sources.search.http import ProviderClient, cut_query, items

BASE_URL = "https://api.search.brave.com"
COUNT = 20  # the most one page may hold
LAST_OFFSET = 9  # `offset` counts pages, 0-9
MAX_WORDS = 50  # `q` holds at most 400 characters and 50 words; past either Brave answers 422
_TAG = re.compile(r"<[^>]{0,40}>")  # snippets mark matches with <strong>


def explain(status: int, body: str) -> str | None:
    # Brave answers a key it does not know with 422 SUBSCRIPTION_TOKEN_INVALID, not 401, so the body tells.
    if status in (401, 403) or "SUBSCRIPTION_TOKEN_INVALID" in body:
        return f"rejected the API key (HTTP {status}): set FIRMSCOUT_WEB__SEARCH_API_KEY to a Brave Search API key."
    if status == 422:
        return f"refused the request (HTTP 422): {body[:200]}"
    return None


class BraveProvider:
    name = "brave"
    max_query_chars: int | None = 400

    def __init__(self, api_key: str, client: ProviderClient, base_url: str = BASE_URL) -> None:
        self._url = base_url.rstrip("/") + "/res/v1/web/search"
        self._headers = {"X-Subscription-Token": api_key, "Accept": "application/json"}
        self._client = client

    async def search(self, query: str, page: int) -> ResultPage:
        if page > LAST_OFFSET:
            return ResultPage((), more=False)
        data = await self._client.request_json(
            "GET", self._url, headers=self._headers,
            params={"q": " ".join(cut_query(query, self.max_query_chars).split()[:MAX_WORDS]), "count": COUNT,
                    "offset": page},
        )
        web = data.get("web") if isinstance(data, dict) else None
        results = tuple(
            SearchResult(url=r["url"], title=_TAG.sub("", str(r.get("title") or "")),
                         snippet=_TAG.sub("", str(r.get("description") or "")))
            for r in items(web, "results") if isinstance(r.get("url"), str)
        )
        told = data.get("query") if isinstance(data, dict) else None
        more = bool(told.get("more_results_available")) if isinstance(told, dict) else bool(results)
        return ResultPage(results, more=more and page < LAST_OFFSET)

    async def aclose(self) -> None:
        await self._client.aclose()
