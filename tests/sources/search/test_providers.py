"""The web search providers, built from settings and run over real HTTP against a loopback server that speaks
each provider's wire format (tests/servers/search_api.py); `ddgs`, which speaks none, faked at its Python
interface."""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from firmscout.config import WebSettings
from firmscout.errors import FirmscoutError
from firmscout.sources.search import http
from firmscout.sources.search.base import Place, ProviderError, ResultPage, SearchProvider, SearchResult
from firmscout.sources.search.ddgs_search import DdgsProvider
from firmscout.sources.search.registry import build_provider
from firmscout.sources.search.serper import SerperProvider
from tests.servers.search_api import (
    EMPTY,
    TRUNCATED,
    Doc,
    Listing,
    Provider,
    SearchApiServer,
    rate_limited,
    unavailable,
)

KEY = "tvly-test-key"
KEYED: list[Provider] = ["brave", "tavily", "exa", "serper"]
EVERY: list[Provider] = ["searxng", *KEYED]
# The status each provider answers a key it does not know (Brave: 422 SUBSCRIPTION_TOKEN_INVALID; Serper: 403).
WRONG_KEY_STATUS = {"brave": 422, "tavily": 401, "exa": 401, "serper": 403}
# Brave's "Base AI" plan, 20 requests a second: tests that page through Brave do not wait out the free plan's 1/s.
BRAVE_BASE_PLAN = (20, 20_000_000)

Build = Callable[..., SearchProvider]


def corpus(n: int) -> list[Doc]:
    return [Doc(f"https://firm{i}.example/", f"Firm {i} | Industrial robots", f"Firm {i} builds industrial robots.")
            for i in range(n)]


@pytest.fixture(scope="module")
def server() -> Iterator[SearchApiServer]:
    # One server for the module, reset for each test: stopping uvicorn takes a tick of its loop (0.1 s).
    running = SearchApiServer().start()
    yield running
    running.stop()


@pytest.fixture
def api(server: SearchApiServer) -> SearchApiServer:
    return server.reset(key=KEY, corpus=corpus(3))


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    # The client pauses 0.5 s, then 1 s, before retrying a 5xx; the tests count the retries, not the seconds.
    monkeypatch.setattr(http, "_BACKOFF_S", 0.01)


@pytest.fixture
async def build(api: SearchApiServer) -> AsyncIterator[Build]:
    """`build(name, key=…, url=…)`: the provider the settings name, pointed at the loopback server (which then
    plays that provider), closed after the test."""
    built: list[SearchProvider] = []

    def make(name: Provider, *, key: str | None = KEY, url: str | None = None, max_retry_after_s: float = 2.0,
             interval_s: float = 0.0) -> SearchProvider:
        api.provider = name
        provider = build_provider(WebSettings(
            search_provider=name, search_url=url or api.base_url, search_api_key=SecretStr(key) if key else None,
            search_timeout_s=5.0, search_interval_s=interval_s, max_retry_after_s=max_retry_after_s))
        assert provider is not None
        built.append(provider)
        return provider

    yield make
    for provider in built:
        await provider.aclose()


def sent_query(api: SearchApiServer, provider: Provider) -> str:
    """The query text of the last request, wherever the provider puts it."""
    last = api.requests[-1]
    if provider in ("searxng", "brave"):
        return last.params["q"]
    return str(last.json["q" if provider == "serper" else "query"])


class TestResults:
    async def test_searxng_results_and_unresponsive_engines_as_notes(self, api: SearchApiServer, build: Build) -> None:
        api.unresponsive_engines = [("google", "too many requests"), ("bing", "timeout")]
        page = await build("searxng").search("industrial robots berlin", 0)
        assert page.results[0] == SearchResult(url="https://firm0.example/", title="Firm 0 | Industrial robots",
                                               snippet="Firm 0 builds industrial robots.")
        assert len(page.results) == 3
        assert page.notes == ("SearXNG engine 'google' did not answer: too many requests",
                              "SearXNG engine 'bing' did not answer: timeout")
        sent = api.requests[0]
        assert (sent.method, sent.path) == ("GET", "/search")
        assert sent.params == {"q": "industrial robots berlin", "format": "json", "pageno": "1"}
        assert "authorization" not in sent.headers, "SearXNG takes no key"

    async def test_brave_snippets_lose_their_strong_tags(self, api: SearchApiServer, build: Build) -> None:
        page = await build("brave").search("industrial robots", 0)
        assert page.results[0].snippet == "Firm 0 builds industrial robots."
        assert page.results[0].title == "Firm 0 | Industrial robots"
        sent = api.requests[0]
        assert (sent.method, sent.path) == ("GET", "/res/v1/web/search")
        assert sent.headers["x-subscription-token"] == KEY
        assert sent.params == {"q": "industrial robots", "count": "20", "offset": "0"}

    async def test_tavily_sends_a_bearer_key_and_maps_content(self, api: SearchApiServer, build: Build) -> None:
        page = await build("tavily").search("industrial robots", 0)
        assert [r.url for r in page.results] == [d.url for d in api.corpus]
        assert page.results[1].snippet == "Firm 1 builds industrial robots."
        sent = api.requests[0]
        assert (sent.method, sent.path) == ("POST", "/search")
        assert sent.headers["authorization"] == f"Bearer {KEY}"
        assert sent.json == {"query": "industrial robots", "search_depth": "basic", "max_results": 20}

    async def test_exa_asks_for_companies_with_text(self, api: SearchApiServer, build: Build) -> None:
        page = await build("exa").search("industrial robots", 0)
        assert page.results[2] == SearchResult(url="https://firm2.example/", title="Firm 2 | Industrial robots",
                                               snippet="Firm 2 builds industrial robots.")
        sent = api.requests[0]
        assert sent.headers["x-api-key"] == KEY
        assert sent.json["category"] == "company" and sent.json["contents"]["text"]

    async def test_serper_puts_the_knowledge_graph_website_first(self, api: SearchApiServer, build: Build) -> None:
        api.knowledge_graph = {"title": "Acme Robotics", "website": "https://acme.example/",
                               "description": "Acme Robotics makes welding arms."}
        page = await build("serper").search("acme robotics", 0)
        assert page.results[0] == SearchResult(url="https://acme.example/", title="Acme Robotics",
                                               snippet="Acme Robotics makes welding arms.",
                                               website="https://acme.example/")
        assert [r.url for r in page.results[1:]] == [d.url for d in api.corpus]
        sent = api.requests[0]
        assert sent.headers["x-api-key"] == KEY
        assert sent.json == {"q": "acme robotics", "num": 20, "page": 1}

    async def test_serper_places_become_places(self, api: SearchApiServer, build: Build) -> None:
        api.listings = [Listing("Acme Robotics", "Hauptstr. 1, Berlin", "Robotics company", phone="+49 30 123",
                                website="https://acme.example/", latitude=52.5, longitude=13.4),
                        Listing("Bolt Works", "Ringstr. 2, Berlin", "Machine shop")]
        provider = build("serper")
        assert isinstance(provider, SerperProvider)
        page = await provider.places("robotics companies in berlin", 0)
        assert page.more is False, "a page shorter than Serper's ten is the last"
        assert page.places == (
            Place(name="Acme Robotics", website="https://acme.example/", address="Hauptstr. 1, Berlin",
                  phone="+49 30 123", category="Robotics company", latitude=52.5, longitude=13.4),
            Place(name="Bolt Works", website=None, address="Ringstr. 2, Berlin", phone=None,
                  category="Machine shop", latitude=52.52, longitude=13.405),
        )
        assert (api.requests[0].path, api.requests[0].json) == ("/places", {"q": "robotics companies in berlin",
                                                                             "page": 1})


class TestPaging:
    async def test_searxng_pages_by_pageno_until_a_page_is_empty(self, api: SearchApiServer, build: Build) -> None:
        api.corpus = corpus(15)
        provider = build("searxng")
        pages = [await provider.search("robots", n) for n in range(3)]
        assert [(len(p.results), p.more) for p in pages] == [(10, True), (5, True), (0, False)]
        assert [r.params["pageno"] for r in api.requests] == ["1", "2", "3"]

    async def test_brave_pages_by_offset_while_more_results_are_available(
        self, api: SearchApiServer, build: Build
    ) -> None:
        api.corpus, api.brave_plan = corpus(25), BRAVE_BASE_PLAN
        provider = build("brave")
        first, second = await provider.search("robots", 0), await provider.search("robots", 1)
        assert (len(first.results), first.more) == (20, True)
        assert (len(second.results), second.more) == (5, False)
        assert second.results[0].url == "https://firm20.example/"
        assert [(r.params["offset"], r.params["count"]) for r in api.requests] == [("0", "20"), ("1", "20")]

    async def test_brave_stops_at_its_last_offset(self, api: SearchApiServer, build: Build) -> None:
        api.corpus, api.brave_plan = corpus(300), BRAVE_BASE_PLAN
        provider = build("brave")
        assert (await provider.search("robots", 9)).more is False, "offset 9 is Brave's last page"
        assert await provider.search("robots", 10) == ResultPage((), more=False)
        assert len(api.requests) == 1

    async def test_serper_pages_from_one(self, api: SearchApiServer, build: Build) -> None:
        api.corpus = corpus(25)
        provider = build("serper")
        pages = [await provider.search("robots", n) for n in range(3)]
        assert [(len(p.results), p.more) for p in pages] == [(20, True), (5, True), (0, False)]
        assert [r.json["page"] for r in api.requests] == [1, 2, 3]

    @pytest.mark.parametrize("name", ["tavily", "exa"])
    async def test_single_page_providers_say_there_is_no_more_and_ask_nothing_after(
        self, api: SearchApiServer, build: Build, name: Provider
    ) -> None:
        provider = build(name)
        first = await provider.search("robots", 0)
        assert len(first.results) == 3 and first.more is False
        assert await provider.search("robots", 1) == ResultPage((), more=False)
        assert len(api.requests) == 1


class TestEmptyResults:
    @pytest.mark.parametrize("name", EVERY)
    async def test_nothing_found_is_an_empty_last_page(
        self, api: SearchApiServer, build: Build, name: Provider
    ) -> None:
        api.knowledge_graph = {"title": "Acme", "website": "https://acme.example/"}
        api.fail(EMPTY)
        assert await build(name).search("zzyzx quux", 0) == ResultPage((), more=False)


class TestRateLimits:
    @pytest.mark.parametrize("name", EVERY)
    async def test_a_429_within_the_allowed_wait_is_retried(
        self, api: SearchApiServer, build: Build, name: Provider
    ) -> None:
        api.fail(rate_limited(retry_after="0"))
        page = await build(name).search("robots", 0)
        assert len(page.results) >= 3
        assert len(api.requests) == 2

    async def test_the_retry_waits_as_long_as_retry_after_asks(self, api: SearchApiServer, build: Build) -> None:
        api.fail(rate_limited(retry_after="1"))
        await build("searxng").search("robots", 0)
        first, retry = api.requests
        assert retry.at - first.at >= 0.9

    @pytest.mark.parametrize("name", EVERY)
    async def test_a_429_asking_longer_than_max_retry_after_is_a_transient_error(
        self, api: SearchApiServer, build: Build, name: Provider
    ) -> None:
        api.fail(rate_limited(retry_after="60"))
        with pytest.raises(ProviderError) as failure:
            await build(name, max_retry_after_s=2.0).search("robots", 0)
        assert failure.value.transient is True
        assert f"Search provider {name!r} rate-limited the search (HTTP 429; it asks to retry after 60 s)" in str(
            failure.value)
        assert len(api.requests) == 1

    async def test_a_429_without_retry_after_is_retried_after_a_backoff(
        self, api: SearchApiServer, build: Build
    ) -> None:
        api.fail(rate_limited(retry_after=None))
        page = await build("tavily").search("robots", 0)
        assert len(page.results) == 3 and len(api.requests) == 2

    async def test_a_429_that_persists_is_a_transient_error(self, api: SearchApiServer, build: Build) -> None:
        api.fail(rate_limited(retry_after=None), times=3)
        with pytest.raises(ProviderError, match=r"'tavily' rate-limited the search \(HTTP 429\)") as failure:
            await build("tavily").search("robots", 0)
        assert failure.value.transient is True and len(api.requests) == 3

    async def test_a_brave_429_is_waited_out_by_its_x_ratelimit_reset(self, api: SearchApiServer, build: Build) -> None:
        api.fail(rate_limited(retry_after=None))  # Brave's 429 says when through X-RateLimit-Reset: "1, <month>"
        page = await build("brave").search("robots", 0)
        first, retry = api.requests
        assert len(page.results) == 3 and retry.at - first.at >= 0.9

    async def test_brave_free_plan_requests_are_paced_by_its_headers(self, api: SearchApiServer, build: Build) -> None:
        provider = build("brave")  # the free plan: 1 request a second, which the replies' headers count down
        await provider.search("robots", 0)
        await provider.search("robots", 1)
        first, second = api.requests
        assert second.at - first.at >= 0.9
        assert len(api.requests) == 2, "no request met Brave's own 429"

    async def test_an_exhausted_brave_month_is_not_waited_for(self, api: SearchApiServer, build: Build) -> None:
        api.brave_used = api.brave_plan[1]
        with pytest.raises(ProviderError, match=r"'brave' rate-limited the search \(HTTP 429; it asks to retry "
                                                r"after \d+ s\)") as failure:
            await build("brave").search("robots", 0)
        assert failure.value.transient is True and len(api.requests) == 1


class TestFailures:
    @pytest.mark.parametrize("name", EVERY)
    async def test_a_5xx_is_retried_then_a_transient_error(
        self, api: SearchApiServer, build: Build, name: Provider
    ) -> None:
        api.fail(unavailable(503), times=3)
        with pytest.raises(ProviderError, match=f"Search provider {name!r} failed \\(HTTP 503\\)") as failure:
            await build(name).search("robots", 0)
        assert failure.value.transient is True
        assert len(api.requests) == 3

    async def test_a_passing_5xx_is_retried_to_success(self, api: SearchApiServer, build: Build) -> None:
        api.fail(unavailable(502))
        page = await build("serper").search("robots", 0)
        assert len(page.results) == 3 and len(api.requests) == 2

    @pytest.mark.parametrize("name", EVERY)
    async def test_a_truncated_body_is_a_malformed_json_error(
        self, api: SearchApiServer, build: Build, name: Provider
    ) -> None:
        api.fail(TRUNCATED)
        with pytest.raises(ProviderError, match=f"Search provider {name!r} answered with malformed JSON"):
            await build(name).search("robots", 0)

    async def test_an_unreachable_provider_is_a_transient_error(self, build: Build) -> None:
        provider = build("searxng", url="http://127.0.0.1:9")  # the discard port: nothing listens on loopback
        with pytest.raises(ProviderError, match="'searxng' could not be reached") as failure:
            await provider.search("robots", 0)
        assert failure.value.transient is True

    async def test_searxng_with_json_off_names_the_setting_to_change(self, api: SearchApiServer, build: Build) -> None:
        api.searxng_json = False
        with pytest.raises(ProviderError, match=r"HTTP 403.*`search\.formats`") as failure:
            await build("searxng").search("robots", 0)
        assert failure.value.transient is False

    @pytest.mark.parametrize("name", KEYED)
    async def test_a_wrong_key_names_the_setting_and_is_not_retried(
        self, api: SearchApiServer, build: Build, name: Provider
    ) -> None:
        with pytest.raises(ProviderError, match="FIRMSCOUT_WEB__SEARCH_API_KEY") as failure:
            await build(name, key="wrong-key").search("robots", 0)
        assert failure.value.transient is False
        assert f"HTTP {WRONG_KEY_STATUS[name]}" in str(failure.value)
        assert len(api.requests) == 1


class TestLongQueries:
    @pytest.mark.parametrize("name", ["brave", "tavily"])
    async def test_a_query_over_400_characters_is_cut_at_a_word(
        self, api: SearchApiServer, build: Build, name: Provider
    ) -> None:
        query = " ".join(["manufacturers of precision industrial welding robots"] * 9)  # 476 characters, 54 words
        page = await build(name).search(query, 0)
        sent = sent_query(api, name)
        assert len(page.results) == 3, "the provider accepted what was sent"
        assert len(sent) <= 400 and query.startswith(sent) and query[len(sent)] == " "

    async def test_brave_queries_are_cut_to_50_words(self, api: SearchApiServer, build: Build) -> None:
        query = " ".join(f"w{i}" for i in range(60))  # 229 characters, but Brave also stops at 50 words
        page = await build("brave").search(query, 0)
        assert len(page.results) == 3
        assert sent_query(api, "brave").split() == query.split()[:50]


class TestBuildProvider:
    def test_no_provider_means_no_web_search(self) -> None:
        assert build_provider(WebSettings()) is None

    def test_searxng_needs_its_url(self) -> None:
        with pytest.raises(FirmscoutError, match="needs FIRMSCOUT_WEB__SEARCH_URL"):
            build_provider(WebSettings(search_provider="searxng"))

    @pytest.mark.parametrize("name", KEYED)
    def test_keyed_providers_need_a_key(self, name: Provider) -> None:
        with pytest.raises(FirmscoutError, match=f"SEARCH_PROVIDER={name} needs FIRMSCOUT_WEB__SEARCH_API_KEY"):
            build_provider(WebSettings(search_provider=name))

    @pytest.mark.skipif(importlib.util.find_spec("ddgs") is not None, reason="the [ddgs] extra is installed")
    def test_ddgs_without_its_extra_says_how_to_install_it(self) -> None:
        with pytest.raises(ProviderError, match=r"pip install 'firmscout\[ddgs\]'"):
            build_provider(WebSettings(search_provider="ddgs"))


class RatelimitException(Exception):
    """ddgs's own rate-limit error, matched by name as the provider does."""


class FakeDDGS:
    """`ddgs.DDGS` at its Python interface: `text(query, max_results=…)` → [{title, href, body}]."""

    def __init__(self, calls: list[tuple[str, int]], rows: int = 45, error: Exception | None = None) -> None:
        self.calls, self.rows, self.error = calls, rows, error

    def text(self, query: str, *, max_results: int, **options: Any) -> list[dict[str, str]]:
        self.calls.append((query, max_results))
        if self.error is not None:
            raise self.error
        return [{"title": f"Firm {i}", "href": f"https://firm{i}.example/", "body": f"Firm {i} builds robots."}
                for i in range(min(self.rows, max_results))]


class TestDdgs:
    async def test_rows_become_results_page_by_page(self) -> None:
        calls: list[tuple[str, int]] = []
        provider = DdgsProvider(0.0, make=lambda: FakeDDGS(calls, rows=45))
        first, third = await provider.search("robots", 0), await provider.search("robots", 2)
        assert first.results[0] == SearchResult(url="https://firm0.example/", title="Firm 0",
                                                snippet="Firm 0 builds robots.")
        assert (len(first.results), first.more) == (20, True)
        assert (len(third.results), third.more) == (5, False)
        assert third.results[0].url == "https://firm40.example/"
        assert calls == [("robots", 20), ("robots", 60)]

    async def test_a_rate_limit_is_a_transient_error(self) -> None:
        limited = RatelimitException("https://duckduckgo.com/ 202 Ratelimit")
        provider = DdgsProvider(0.0, make=lambda: FakeDDGS([], error=limited))
        with pytest.raises(ProviderError, match=r"'ddgs' failed \(RatelimitException") as failure:
            await provider.search("robots", 0)
        assert failure.value.transient is True

    async def test_any_other_failure_is_not_transient(self) -> None:
        provider = DdgsProvider(0.0, make=lambda: FakeDDGS([], error=ValueError("no results parser")))
        with pytest.raises(ProviderError, match="'ddgs' failed") as failure:
            await provider.search("robots", 0)
        assert failure.value.transient is False

    async def test_long_queries_are_cut(self) -> None:
        calls: list[tuple[str, int]] = []
        await DdgsProvider(0.0, make=lambda: FakeDDGS(calls)).search("x" * 900, 0)
        assert calls == [("x" * 500, 20)]
