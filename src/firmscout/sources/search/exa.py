"""Exa: `POST /search` with a JSON body, key in `x-api-key`; its `company` category returns companies' own
pages. One page of up to 50 results (Exa does not page; a longer list costs more)."""

from __future__ import annotations

from firmscout.sources.search.base import ResultPage, SearchResult
from firmscout.sources.search.http import ProviderClient, items

BASE_URL = "https://api.exa.ai"
NUM_RESULTS = 50


def explain(status: int, body: str) -> str | None:
    if status in (401, 403):
        return f"rejected the API key (HTTP {status}): set FIRMSCOUT_WEB__SEARCH_API_KEY to an Exa API key."
    return None


class ExaProvider:
    name = "exa"
    max_query_chars: int | None = None

    def __init__(self, api_key: str, client: ProviderClient, base_url: str = BASE_URL) -> None:
        self._url = base_url.rstrip("/") + "/search"
        self._headers = {"x-api-key": api_key}
        self._client = client

    async def search(self, query: str, page: int) -> ResultPage:
        if page > 0:
            return ResultPage((), more=False)
        data = await self._client.request_json(
            "POST", self._url, headers=self._headers,
            body={"query": query, "type": "auto", "category": "company", "numResults": NUM_RESULTS,
                  "contents": {"text": {"maxCharacters": 600}}},
        )
        results = tuple(
            SearchResult(url=r["url"], title=str(r.get("title") or ""),
                         snippet=str(r.get("text") or " ".join(map(str, r.get("highlights") or []))))
            for r in items(data, "results") if isinstance(r.get("url"), str)
        )
        return ResultPage(results, more=False)

    async def aclose(self) -> None:
        await self._client.aclose()
