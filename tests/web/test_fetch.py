"""The guarded fetcher against a generated web served through a loopback forward proxy: every page load ends
with a page or a clear reason, and nothing is ever requested from a blocked address."""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import AsyncIterator

import pytest

from firmscout.config import WebSettings
from firmscout.web.fetch import Fetcher, FetchError
from firmscout.web.guard import IPAddress
from tests.servers.web import LoopbackWeb, Site, html_page, single_page_site

# The resolver seam: fake names do not resolve here (the proxy serves them), except these.
LOCAL_DNS = {"internal.example": ["10.0.0.5"], "mixed.example": ["93.184.216.34", "192.168.1.9"]}


async def seam(host: str, port: int) -> list[IPAddress]:
    if host in LOCAL_DNS:
        return [ipaddress.ip_address(a) for a in LOCAL_DNS[host]]
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def _settings(web: LoopbackWeb, **overrides: object) -> WebSettings:
    values: dict[str, object] = {"proxy_url": web.proxy_url, "per_host_delay_s": 0.0, "deadline_s": 5.0}
    return WebSettings(**{**values, **overrides})  # type: ignore[arg-type]


@pytest.fixture
async def fetcher(fake_web: LoopbackWeb) -> AsyncIterator[Fetcher]:
    fetcher = Fetcher(_settings(fake_web), resolver=seam)
    yield fetcher
    await fetcher.aclose()


def _blocked_requests(web: LoopbackWeb) -> list[str]:
    """Requests that reached the proxy for an address or name the guard must never let through."""
    hosts = {"169.254.169.254", "127.0.0.1", "::1", "10.0.0.5", "localhost", "internal.example"}
    return [r.target for r in web.requests if r.host in hosts or "authorization" in r.headers]


async def _reason(fetcher: Fetcher, url: str) -> str:
    with pytest.raises(FetchError) as caught:
        await fetcher.fetch(url)
    return caught.value.reason


class TestPages:
    async def test_a_homepage_with_its_identifying_user_agent(self, fetcher: Fetcher, fake_web: LoopbackWeb) -> None:
        page = await fetcher.fetch("http://acme.example/")
        assert page.status == 200 and page.content_type == "text/html" and "Acme Robotics" in page.text
        sent = fake_web.requests_to("acme.example")[-1]
        assert sent.headers["user-agent"].startswith("FirmscoutBot/")

    async def test_www_and_cross_domain_redirects_are_followed_and_recorded(self, fetcher: Fetcher) -> None:
        apex = await fetcher.fetch("http://www.acme.example/about")
        assert apex.final_url == "http://acme.example/about" and apex.redirects == ("http://www.acme.example/about",)
        rebrand = await fetcher.fetch("http://old.example/")
        assert rebrand.final_url == "http://new.example/"

    async def test_a_gzip_page_is_read_decompressed(self, fetcher: Fetcher) -> None:
        page = await fetcher.fetch("http://gzip.example/")
        assert "Gzip Systems" in page.text and page.bytes > 0

    async def test_a_bare_domain_is_tried_over_https_then_http(self, fetcher: Fetcher, fake_web: LoopbackWeb) -> None:
        page = await fetcher.fetch_site("acme.example")
        assert page.final_url == "http://acme.example/"
        assert [r.method for r in fake_web.requests_to("acme.example")][:1] == ["CONNECT"]

    async def test_robots_txt_is_honoured_and_read_once_per_host(
        self, fetcher: Fetcher, fake_web: LoopbackWeb
    ) -> None:
        assert await _reason(fetcher, "http://blocked.example/") == "robots"
        assert await _reason(fetcher, "http://acme.example/private") == "robots"
        await fetcher.fetch("http://acme.example/about")
        await fetcher.fetch("http://acme.example/products")
        robots = [r for r in fake_web.requests_to("acme.example") if r.target.endswith("/robots.txt")]
        assert len(robots) == 1
        assert not [r for r in fake_web.requests_to("blocked.example") if not r.target.endswith("/robots.txt")]


class TestLimits:
    async def test_an_oversize_page_stops_at_the_cap(self, fetcher: Fetcher) -> None:
        assert await _reason(fetcher, "http://huge.test/") == "too_large"
        assert await _reason(fetcher, "http://huge.test/chunked") == "too_large"

    async def test_a_gzip_bomb_stops_at_the_cap_counted_after_decompression(self, fetcher: Fetcher) -> None:
        assert await _reason(fetcher, "http://bomb.test/") == "too_large"

    async def test_a_slow_drip_stops_at_the_deadline(self, fake_web: LoopbackWeb) -> None:
        fetcher = Fetcher(_settings(fake_web, deadline_s=1.0), resolver=seam)
        started = time.monotonic()
        try:
            assert await _reason(fetcher, "http://slow.test/") == "timeout"
        finally:
            await fetcher.aclose()
        assert time.monotonic() - started < 5

    async def test_only_html_and_plain_text_are_read(self, fetcher: Fetcher) -> None:
        assert await _reason(fetcher, "http://pdf.test/") == "content_type"

    async def test_server_errors_and_rate_limits_give_their_reason(self, fetcher: Fetcher) -> None:
        assert await _reason(fetcher, "http://broken.test/") == "http_status"
        started = time.monotonic()
        assert await _reason(fetcher, "http://ratelimited.test/") == "rate_limited"
        assert time.monotonic() - started >= 0.9  # Retry-After: 1 was waited for once
        assert await _reason(fetcher, "http://unavailable.test/") == "rate_limited"

    async def test_a_host_is_fetched_one_at_a_time_with_its_delay(self, fake_web: LoopbackWeb) -> None:
        fetcher = Fetcher(_settings(fake_web, per_host_delay_s=0.3), resolver=seam)
        started = time.monotonic()
        try:
            for path in ("/", "/about", "/products"):
                await fetcher.fetch(f"http://graph.example{path}")
        finally:
            await fetcher.aclose()
        assert time.monotonic() - started >= 0.9  # robots.txt and three pages, 0.3 s apart


class TestGuard:
    @pytest.mark.parametrize("path", ["/metadata", "/loopback", "/ipv6-loopback", "/private-network", "/localhost",
                                      "/credentials", "/odd-port"])
    async def test_a_redirect_to_a_blocked_target_is_refused_and_never_requested(
        self, fetcher: Fetcher, fake_web: LoopbackWeb, path: str
    ) -> None:
        assert await _reason(fetcher, f"http://ssrf.test{path}") == "blocked"
        assert _blocked_requests(fake_web) == []

    @pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/", "http://127.0.0.1/", "http://[::1]/",
                                     "http://10.0.0.5/", "http://user:pass@acme.example/", "http://acme.example:8081/",
                                     "http://localhost/", "file:///etc/passwd", "http://[::ffff:127.0.0.1]/"])
    async def test_blocked_urls_are_refused_before_any_request(
        self, fetcher: Fetcher, fake_web: LoopbackWeb, url: str
    ) -> None:
        assert await _reason(fetcher, url) == "blocked"
        assert fake_web.requests == []

    async def test_a_name_that_resolves_to_a_private_address_is_refused(
        self, fetcher: Fetcher, fake_web: LoopbackWeb
    ) -> None:
        fake_web.add_site(single_page_site("internal.example", html_page("Intranet", "secret")))
        assert await _reason(fetcher, "http://internal.example/") == "blocked"
        assert await _reason(fetcher, "http://mixed.example/") == "blocked"
        assert fake_web.requests == []

    async def test_an_allowed_internal_host_is_fetched(self, fake_web: LoopbackWeb) -> None:
        fake_web.add_site(single_page_site("internal.example", html_page("Intranet", "Internal wiki")))
        fetcher = Fetcher(_settings(fake_web, allow_hosts=["internal.example"]), resolver=seam)
        try:
            assert "Internal wiki" in (await fetcher.fetch("http://internal.example/")).text
        finally:
            await fetcher.aclose()

    async def test_without_a_proxy_an_unresolvable_name_is_unreachable(self) -> None:
        fetcher = Fetcher(WebSettings(deadline_s=2.0), resolver=seam)
        try:
            assert await _reason(fetcher, "http://acme.example/") == "unreachable"
            assert await _reason(fetcher, "http://internal.example/") == "blocked"
        finally:
            await fetcher.aclose()

    async def test_environment_proxy_variables_are_ignored(
        self, fake_web: LoopbackWeb, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("HTTP_PROXY", fake_web.proxy_url)
        monkeypatch.setenv("http_proxy", fake_web.proxy_url)
        fetcher = Fetcher(WebSettings(deadline_s=2.0), resolver=seam)
        try:
            assert await _reason(fetcher, "http://acme.example/") == "unreachable"
        finally:
            await fetcher.aclose()
        assert fake_web.requests == []


def test_the_standard_web_is_what_these_tests_expect(fake_web: LoopbackWeb) -> None:
    assert isinstance(fake_web.site("ssrf.test"), Site)


async def test_a_direct_fetch_connects_to_the_address_it_checked(fake_web: LoopbackWeb) -> None:
    # Allowed here only so the loopback server can stand in for a public host: acme.example "resolves" to it
    # through the seam alone, so a second lookup by anything else would fail to connect.
    port = fake_web.port

    async def pinned(host: str, _port: int) -> list[IPAddress]:
        if host == "acme.example":
            return [ipaddress.ip_address("127.0.0.1")]
        return await seam(host, _port)

    fetcher = Fetcher(WebSettings(allow_hosts=["acme.example"], per_host_delay_s=0.0, deadline_s=5.0),
                      resolver=pinned)
    try:
        page = await fetcher.fetch(f"http://acme.example:{port}/about")
    finally:
        await fetcher.aclose()
    assert "Acme Robotics" in page.text and page.final_url == f"http://acme.example:{port}/about"
    sent = fake_web.requests[-1]
    assert sent.headers["host"] == f"acme.example:{port}" and not sent.target.startswith("http://127.0.0.1")
