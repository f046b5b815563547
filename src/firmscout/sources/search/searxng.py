"""SearXNG's JSON API: `GET {base}/search?q=…&format=json&pageno=N`, self-hosted, no key."""

from __future__ import annotations

from firmscout.sources.search.base import ResultPage, SearchResult
from firmscout.sources.search.http import ProviderClient, items


def explain(status: int, body: str) -> str | None:
    if status == 403:
        return ("refused the search (HTTP 403): its JSON output is off. Add `json` to `search.formats` in the "
                "instance's settings.yml (e.g. formats: [html, json]) and restart it.")
    return None


class SearxngProvider:
    name = "searxng"
    max_query_chars: int | None = None

    def __init__(self, base_url: str, client: ProviderClient) -> None:
        self._url = base_url.rstrip("/") + "/search"
        self._client = client

    async def search(self, query: str, page: int) -> ResultPage:
        data = await self._client.request_json(
            "GET", self._url, params={"q": query, "format": "json", "pageno": page + 1},
            headers={"Accept": "application/json"},
        )
        results = tuple(
            SearchResult(url=r["url"], title=str(r.get("title") or ""), snippet=str(r.get("content") or ""))
            for r in items(data, "results") if isinstance(r.get("url"), str)
        )
        notes = tuple(
            f"SearXNG engine {pair[0]!r} did not answer: {pair[1]}"
            for pair in ((data.get("unresponsive_engines") or []) if isinstance(data, dict) else [])
            if isinstance(pair, list | tuple) and len(pair) == 2
        )
        # No count parameter and no total worth trusting: an empty page is the end.
        return ResultPage(results, more=bool(results), notes=notes)

    async def aclose(self) -> None:
        await self._client.aclose()

