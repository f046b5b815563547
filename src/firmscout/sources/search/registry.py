"""The search provider and the places endpoint the settings name, built once per process; modules are imported
only when chosen."""

from __future__ import annotations

import httpx
from pydantic import SecretStr

from firmscout.config import WebSettings
from firmscout.errors import FirmscoutError
from firmscout.sources.search.base import PlaceSearch, SearchProvider
from firmscout.sources.search.http import Explain, ProviderClient

_KEYED = {"brave", "tavily", "exa", "serper"}


def build_provider(web: WebSettings, transport: httpx.AsyncBaseTransport | None = None) -> SearchProvider | None:
    """The configured provider, or None when FIRMSCOUT_WEB__SEARCH_PROVIDER is unset. A missing URL or key is
    a FirmscoutError naming the setting."""
    name = web.search_provider
    if name is None:
        return None
    key = _secret(web.search_api_key)
    if name == "searxng" and not web.search_url:
        raise FirmscoutError("FIRMSCOUT_WEB__SEARCH_PROVIDER=searxng needs FIRMSCOUT_WEB__SEARCH_URL, the instance's "
                          "base URL (e.g. http://127.0.0.1:8888).")
    if name in _KEYED and not key:
        raise FirmscoutError(f"FIRMSCOUT_WEB__SEARCH_PROVIDER={name} needs FIRMSCOUT_WEB__SEARCH_API_KEY.")
    if name == "ddgs":
        from firmscout.sources.search.ddgs_search import DdgsProvider

        return DdgsProvider(web.search_interval_s)

    def client(explain: Explain) -> ProviderClient:
        return _client(name, web, explain, transport)

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


def build_places(web: WebSettings, transport: httpx.AsyncBaseTransport | None = None) -> PlaceSearch | None:
    """The places endpoint of the `maps` source, with its own client (the caller closes it), or None when
    FIRMSCOUT_WEB__PLACES_PROVIDER is unset and the search provider is not Serper. A missing key is a
    FirmscoutError naming the setting."""
    name = web.places_provider or ("serper" if web.search_provider == "serper" else None)
    if name is None:
        return None
    if name == "serper":
        key = _secret(web.search_api_key) if web.search_provider == "serper" else ""
        if not key:
            raise FirmscoutError("FIRMSCOUT_WEB__PLACES_PROVIDER=serper uses Serper's key: set "
                                 "FIRMSCOUT_WEB__SEARCH_PROVIDER=serper with FIRMSCOUT_WEB__SEARCH_API_KEY (or use "
                                 "google with FIRMSCOUT_WEB__PLACES_API_KEY).")
        from firmscout.sources.search import serper

        return serper.SerperProvider(key, _client(name, web, serper.explain, transport),
                                     web.places_url or web.search_url or serper.BASE_URL)
    key = _secret(web.places_api_key)
    if not key:
        raise FirmscoutError("FIRMSCOUT_WEB__PLACES_PROVIDER=google needs FIRMSCOUT_WEB__PLACES_API_KEY, a key of a "
                             "Google Cloud project with Places API (New) enabled.")
    from firmscout.sources.search import google_places

    return google_places.GooglePlaces(key, _client(name, web, google_places.explain, transport),
                                      web.places_url or google_places.BASE_URL)


def _secret(value: SecretStr | None) -> str:
    return value.get_secret_value() if value is not None else ""


def _client(
    name: str, web: WebSettings, explain: Explain, transport: httpx.AsyncBaseTransport | None
) -> ProviderClient:
    return ProviderClient(name, timeout_s=web.search_timeout_s, interval_s=web.search_interval_s,
                          max_retry_after_s=web.max_retry_after_s, explain=explain, transport=transport)
