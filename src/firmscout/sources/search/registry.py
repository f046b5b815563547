"""The search provider the settings name, built once per process; modules are imported only when chosen."""

from __future__ import annotations

import httpx

from firmscout.config import WebSettings
from firmscout.errors import FirmscoutError
from firmscout.sources.search.base import SearchProvider
from firmscout.sources.search.http import Explain, ProviderClient

_KEYED = {"brave", "tavily", "exa", "serper"}


def build_provider(web: WebSettings, transport: httpx.AsyncBaseTransport | None = None) -> SearchProvider | None:
    """The configured provider, or None when FIRMSCOUT_WEB__SEARCH_PROVIDER is unset. A missing URL or key is
    a FirmscoutError naming the setting."""
    name = web.search_provider
    if name is None:
        return None
    key = web.search_api_key.get_secret_value() if web.search_api_key is not None else ""
    if name == "searxng" and not web.search_url:
        raise FirmscoutError("FIRMSCOUT_WEB__SEARCH_PROVIDER=searxng needs FIRMSCOUT_WEB__SEARCH_URL, the instance's "
                          "base URL (e.g. http://127.0.0.1:8888).")
    if name in _KEYED and not key:
        raise FirmscoutError(f"FIRMSCOUT_WEB__SEARCH_PROVIDER={name} needs FIRMSCOUT_WEB__SEARCH_API_KEY.")
    if name == "ddgs":
        from firmscout.sources.search.ddgs_search import DdgsProvider

        return DdgsProvider(web.search_interval_s)

    def client(explain: Explain) -> ProviderClient:
        return ProviderClient(name, timeout_s=web.search_timeout_s, interval_s=web.search_interval_s,
                              max_retry_after_s=web.max_retry_after_s, explain=explain, transport=transport)

    if name == "searxng":
        from firmscout.sources.search import searxng

        assert web.search_url is not None
        return searxng.SearxngProvider(web.search_url, client(searxng.explain))
    if name == "brave":
        from firmscout.sources.search import brave

        return brave.BraveProvider(key, client(brave.explain), web.search_url or brave.BASE_URL)
    if name == "tavily":
        from firmscout.sources.search import tavily

        return tavily.TavilyProvider(key, client(tavily.explain), web.search_url or tavily.BASE_URL)
    if name == "exa":
        from firmscout.sources.search import exa

        return exa.ExaProvider(key, client(exa.explain), web.search_url or exa.BASE_URL)
    from firmscout.sources.search import serper

    return serper.SerperProvider(key, client(serper.explain), web.search_url or serper.BASE_URL)
