"""The loopback web answers through real httpx proxying exactly as the fetcher's tests will rely on."""

from __future__ import annotations

import json
import re
import threading
import time
import zlib
from collections.abc import Iterator

import httpx
import pytest

from tests.servers.web import (
    MB,
    LoopbackWeb,
    Page,
    Site,
    company_site,
    generated_web,
    loopback_web,
)


@pytest.fixture
def web() -> Iterator[LoopbackWeb]:
    with loopback_web() as server:
        yield server


@pytest.fixture
def client(web: LoopbackWeb) -> Iterator[httpx.Client]:
    # trust_env=False: no HTTP_PROXY/NO_PROXY from the environment may route around the loopback proxy.
    with httpx.Client(proxy=web.proxy_url, trust_env=False, timeout=5) as c:
        yield c


def json_ld(html: str) -> dict[str, object]:
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', html)
    assert match, "no JSON-LD block"
    return dict(json.loads(match.group(1)))


class TestCompanySites:
    def test_homepage_carries_a_json_ld_organization_and_links(self, client: httpx.Client) -> None:
        response = client.get("http://acme.example/")
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        org = json_ld(response.text)
        assert org["@type"] == "Organization" and org["name"] == "Acme Robotics GmbH"
        assert org["foundingDate"] == "2009" and org["numberOfEmployees"] == {"@type": "QuantitativeValue",
                                                                               "value": 120}
        assert '<meta name="description" content="Acme Robotics GmbH builds' in response.text
        for link in ("/about", "/products", "/contact", "/login", "/privacy", "https://www.linkedin.com/company/acme"):
            assert f'href="{link}"' in response.text

    def test_about_page_states_the_facts_in_prose(self, client: httpx.Client) -> None:
        response = client.get("http://acme.example/about")
        assert response.status_code == 200
        assert "Founded in 2009 in Germany, Acme Robotics GmbH employs 120 people." in response.text

    def test_graph_meta_only_and_custom_about_variants(self, client: httpx.Client) -> None:
        graph = json_ld(client.get("http://graph.example/").text)
        assert [node["@type"] for node in graph["@graph"]] == ["WebSite", "Organization"]  # type: ignore[attr-defined]
        meta_only = client.get("http://metaonly.example/").text
        assert "ld+json" not in meta_only and "Founded" not in meta_only
        assert 'content="Meta Only SAS builds' in meta_only
        assert client.get("http://plain.example/about-us").status_code == 200
        assert client.get("http://plain.example/about").status_code == 404

    def test_thin_javascript_page_has_no_text(self, client: httpx.Client) -> None:
        html = client.get("http://thin.example/").text
        assert '<div id="root"></div>' in html and '<script src="/static/app.js"></script>' in html

    def test_pdf(self, client: httpx.Client) -> None:
        response = client.get("http://pdf.test/")
        assert response.headers["content-type"] == "application/pdf"
        assert response.content.startswith(b"%PDF-1.4") and response.content.rstrip().endswith(b"%%EOF")


class TestRobots:
    def test_disallow_private_disallow_all_and_missing(self, client: httpx.Client) -> None:
        acme = client.get("http://acme.example/robots.txt")
        assert acme.status_code == 200 and acme.headers["content-type"].startswith("text/plain")
        assert acme.text == "User-agent: *\nDisallow: /private\n"
        assert client.get("http://blocked.example/robots.txt").text == "User-agent: *\nDisallow: /\n"
        assert client.get("http://thin.example/robots.txt").status_code == 404


class TestEncoding:
    def test_gzip_page_is_served_encoded_and_httpx_decodes_it(self, client: httpx.Client) -> None:
        response = client.get("http://gzip.example/")
        assert response.headers["content-encoding"] == "gzip"
        assert int(response.headers["content-length"]) < len(response.content)
        assert json_ld(response.text)["name"] == "Gzip Systems BV"

    def test_gzip_page_is_plain_when_not_accepted(self, client: httpx.Client) -> None:
        response = client.get("http://gzip.example/", headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in response.headers
        assert int(response.headers["content-length"]) == len(response.content)

    def test_gzip_bomb_is_small_on_the_wire_and_inflates_to_50_mb(self, client: httpx.Client) -> None:
        with client.stream("GET", "http://bomb.test/", headers={"Accept-Encoding": "identity"}) as response:
            assert response.headers["content-encoding"] == "gzip"  # sent encoded regardless, as a hostile site would
            compressed = b"".join(response.iter_raw())  # as on the wire: read() would inflate it
        assert len(compressed) < 100_000
        inflater, inflated = zlib.decompressobj(31), 0
        for start in range(0, len(compressed), 4096):
            inflated += len(inflater.decompress(compressed[start:start + 4096]))
        assert inflated == 50 * MB + len(b"<!doctype html><html><body>")


class TestRedirects:
    def test_www_redirects_to_apex_keeping_path_and_query(self, client: httpx.Client) -> None:
        response = client.get("http://www.acme.example/about?lang=en")
        assert response.status_code == 301
        assert response.headers["location"] == "http://acme.example/about?lang=en"
        assert client.get(response.headers["location"]).status_code == 200

    def test_apex_redirects_to_www_and_rebrand_crosses_domains(self, client: httpx.Client) -> None:
        assert client.get("http://beta.example/").headers["location"] == "http://www.beta.example/"
        rebrand = client.get("http://old.example/")
        assert (rebrand.status_code, rebrand.headers["location"]) == (301, "http://new.example/")
        assert json_ld(client.get("http://new.example/").text)["name"] == "New Brand Inc."

    def test_unsafe_redirect_targets(self, web: LoopbackWeb, client: httpx.Client) -> None:
        locations = {path: client.get(f"http://ssrf.test{path}").headers["location"]
                     for path in ("/metadata", "/loopback", "/ipv6-loopback", "/private-network", "/credentials",
                                  "/odd-port")}
        assert locations == {
            "/metadata": "http://169.254.169.254/latest/meta-data/", "/loopback": f"http://127.0.0.1:{web.port}/",
            "/ipv6-loopback": "http://[::1]/", "/private-network": "http://10.0.0.5/",
            "/credentials": "http://user:pass@acme.example/", "/odd-port": "http://acme.example:8081/"}


class TestErrors:
    def test_500(self, client: httpx.Client) -> None:
        assert client.get("http://broken.test/").status_code == 500

    @pytest.mark.parametrize("host, status", [("ratelimited.test", 429), ("unavailable.test", 503)])
    def test_retry_after(self, client: httpx.Client, host: str, status: int) -> None:
        response = client.get(f"http://{host}/")
        assert (response.status_code, response.headers["retry-after"]) == (status, "1")

    def test_unknown_path_is_404_and_unknown_host_502(self, client: httpx.Client) -> None:
        assert client.get("http://acme.example/nope").status_code == 404
        assert client.get("http://nowhere.example/").status_code == 502


class TestLargeAndSlow:
    def test_oversize_page_declares_its_length_or_streams_chunked(self, client: httpx.Client) -> None:
        with client.stream("GET", "http://huge.test/") as response:
            assert int(response.headers["content-length"]) > 3 * MB
        with client.stream("GET", "http://huge.test/chunked") as response:
            assert "content-length" not in response.headers
            assert response.headers["transfer-encoding"] == "chunked"

    def test_slow_drip_sends_headers_then_a_trickle(self, client: httpx.Client) -> None:
        received, started = 0, time.monotonic()
        with client.stream("GET", "http://slow.test/") as response:
            assert int(response.headers["content-length"]) > MB
            for chunk in response.iter_raw():
                received += len(chunk)
                if time.monotonic() - started > 0.3:
                    break
        assert 0 < received < 200  # 200 bytes/s for ~0.3 s


class TestProxyBehaviour:
    def test_requests_are_recorded_in_absolute_form(self, web: LoopbackWeb, client: httpx.Client) -> None:
        client.get("http://acme.example/about")
        [request] = web.requests
        assert (request.method, request.target, request.host) == ("GET", "http://acme.example/about", "acme.example")
        assert request.headers["host"] == "acme.example"
        assert request.headers["user-agent"].startswith("python-httpx/")

    def test_connect_for_https_is_refused_and_recorded(self, web: LoopbackWeb, client: httpx.Client) -> None:
        with pytest.raises(httpx.ProxyError, match="403"):
            client.get("https://acme.example/")
        [request] = web.requests
        assert (request.method, request.target, request.host) == ("CONNECT", "acme.example:443", "acme.example")

    def test_connect_to_an_ip_literal_is_recorded_with_its_host(self, web: LoopbackWeb, client: httpx.Client) -> None:
        with pytest.raises(httpx.ProxyError):
            client.get("https://[::1]/")
        assert [(r.method, r.host) for r in web.requests] == [("CONNECT", "::1")]

    @pytest.mark.parametrize("url, host", [
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"), ("http://10.0.0.5/", "10.0.0.5"),
        ("http://[::1]/", "::1"), ("http://localhost/", "localhost"), ("http://acme.example:8081/", "acme.example"),
    ])
    def test_ip_literals_localhost_and_odd_ports_get_502(
        self, web: LoopbackWeb, client: httpx.Client, url: str, host: str
    ) -> None:
        assert client.get(url).status_code == 502
        assert [r.host for r in web.requests] == [host]

    def test_web_loopback_target_is_refused(self, web: LoopbackWeb, client: httpx.Client) -> None:
        assert client.get(f"http://127.0.0.1:{web.port}/").status_code == 502
        assert web.requests_to("127.0.0.1")

    def test_credentials_become_an_authorization_header(self, web: LoopbackWeb, client: httpx.Client) -> None:
        client.get("http://user:pass@acme.example/")
        [request] = web.requests
        assert request.target == "http://acme.example/"  # httpx strips the userinfo from the target...
        assert request.headers["authorization"] == "Basic dXNlcjpwYXNz"  # ...and sends it as Basic auth

    def test_recording_is_thread_safe(self, web: LoopbackWeb) -> None:
        def fetch() -> None:
            with httpx.Client(proxy=web.proxy_url, trust_env=False) as c:
                for _ in range(10):
                    c.get("http://acme.example/")

        threads = [threading.Thread(target=fetch) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(web.requests) == 40

    def test_head(self, client: httpx.Client) -> None:
        response = client.head("http://acme.example/")
        assert response.status_code == 200 and response.content == b""
        assert int(response.headers["content-length"]) > 0

    def test_add_site_and_reset(self, web: LoopbackWeb, client: httpx.Client) -> None:
        web.add_site(Site("custom.test", {"/": Page(b"hello", "text/plain")}))
        assert client.get("http://custom.test/").text == "hello"
        web.reset()
        assert web.requests == []
        assert client.get("http://custom.test/").status_code == 502
        assert client.get("http://acme.example/").status_code == 200

    def test_without_the_standard_web_only_given_sites_are_served(self) -> None:
        with loopback_web(company_site("solo.example", "Solo GmbH"), standard=False) as web, \
                httpx.Client(proxy=web.proxy_url, trust_env=False) as c:
            assert c.get("http://solo.example/").status_code == 200
            assert c.get("http://acme.example/").status_code == 502

    async def test_async_clients_share_the_server(self, web: LoopbackWeb) -> None:
        async with httpx.AsyncClient(proxy=web.proxy_url, trust_env=False) as c:
            response = await c.get("http://acme.example/contact")
        assert response.status_code == 200 and "info@acme.example" in response.text


class TestGeneratedWeb:
    def test_the_last_of_5000_sites_answers(self, web: LoopbackWeb, client: httpx.Client) -> None:
        sites = generated_web(5000, seed=7)
        web.add_site(sites)
        company = sites.company(4999)
        html = client.get(f"http://{company.host}/").text
        org = json_ld(html) if not company.graph else json_ld(html)["@graph"][1]  # type: ignore[index]
        assert org["name"] == company.name
        assert client.get(f"http://{company.host}{company.about_path}").status_code == 200
        assert client.get("http://kakaka-nothing.example/").status_code == 502

    def test_hosts_and_names_are_unique_and_deterministic(self) -> None:
        sites = generated_web(5000, seed=7)
        hosts = list(sites)
        assert len(set(hosts)) == 5000 and len({c.name for c in sites.companies()}) == 5000
        assert hosts == list(generated_web(5000, seed=7)) and hosts != list(generated_web(5000, seed=8))
        assert all(sites.index_of(host) == i for i, host in enumerate(hosts[:50]))
