"""Serper (Google results): `POST /search` and `POST /places` with a JSON body, key in `X-API-KEY`."""

from __future__ import annotations

from typing import Any

from firmscout.sources.search.base import Place, PlacePage, ResultPage, SearchResult
from firmscout.sources.search.http import ProviderClient, items

BASE_URL = "https://google.serper.dev"
NUM = 20
LAST_PAGE = 9
PLACES_PAGE = 10  # Serper's places pages hold ten listings: a shorter one is the last


def explain(status: int, body: str) -> str | None:
    if status in (401, 403):
        return f"rejected the API key (HTTP {status}): set FIRMSCOUT_WEB__SEARCH_API_KEY to a Serper API key."
    return None


class SerperProvider:
    name = "serper"
    max_query_chars: int | None = 2048

    def __init__(self, api_key: str, client: ProviderClient, base_url: str = BASE_URL) -> None:
        self._base = base_url.rstrip("/")
        self._headers = {"X-API-KEY": api_key}
        self._client = client

    async def search(self, query: str, page: int) -> ResultPage:
        if page > LAST_PAGE:
            return ResultPage((), more=False)
        data = await self._client.request_json(
            "POST", f"{self._base}/search", headers=self._headers, body={"q": query, "num": NUM, "page": page + 1},
        )
        results = [
            SearchResult(url=r["link"], title=str(r.get("title") or ""), snippet=str(r.get("snippet") or ""))
            for r in items(data, "organic") if isinstance(r.get("link"), str)
        ]
        graph = data.get("knowledgeGraph") if isinstance(data, dict) else None
        if page == 0 and isinstance(graph, dict) and isinstance(graph.get("website"), str):
            results.insert(0, SearchResult(url=graph["website"], title=str(graph.get("title") or ""),
                                           snippet=str(graph.get("description") or ""), website=graph["website"]))
        return ResultPage(tuple(results), more=bool(results) and page < LAST_PAGE)

    async def places(self, query: str, page: int, token: str | None = None) -> PlacePage:
        data = await self._client.request_json(
            "POST", f"{self._base}/places", headers=self._headers, body={"q": query, "page": page + 1},
        )
        places = tuple(_place(p) for p in items(data, "places") if isinstance(p.get("title"), str))
        return PlacePage(places, more=len(places) >= PLACES_PAGE)

    async def aclose(self) -> None:
        await self._client.aclose()


def _place(p: dict[str, Any]) -> Place:
    def text(key: str) -> str | None:
        value = p.get(key)
        return str(value) if isinstance(value, str) and value.strip() else None

    def number(key: str) -> float | None:
        value = p.get(key)
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

    return Place(name=p["title"], website=text("website"), address=text("address"), phone=text("phoneNumber"),
                 category=text("category"), latitude=number("latitude"), longitude=number("longitude"))
