"""/docs and /redoc work without internet: every script, style and icon they load is served by the app."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser

import httpx
import pytest

from firmscout.tasks.runtime import Runtime

# The pages need no database: one backend is enough.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

CONTENT_TYPES = {".js": ("text/javascript", "application/javascript"), ".css": ("text/css",), ".png": ("image/png",)}


class _Links(HTMLParser):
    """The URLs a browser would fetch for a page: script sources and linked styles and icons."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href", "img": "src"}.get(tag)
        self.urls += [value for name, value in attrs if name == wanted and value]


def page_links(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.urls


@pytest.fixture
async def proxied(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """The app as served behind a proxy under /api (uvicorn --root-path /api)."""
    from firmscout.api.app import create_app

    transport = httpx.ASGITransport(app=create_app(runtime), root_path="/api")
    async with httpx.AsyncClient(transport=transport, base_url="http://firmscout.test") as c:
        yield c


class TestDocsPages:
    @pytest.mark.parametrize(("page", "script"), [("/docs", "SwaggerUIBundle"), ("/redoc", "Redoc")])
    async def test_page_loads_only_local_assets(self, client: httpx.AsyncClient, page: str, script: str) -> None:
        response = await client.get(page)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert not re.search(r"https?:|//[a-z]", response.text), "the page names another host"
        urls = page_links(response.text)
        assert any(url.endswith(".js") for url in urls) and urls
        for url in urls:
            assert url.startswith("/") and not url.startswith("//"), url
            asset = await client.get(url)
            assert asset.status_code == 200, url
            kind = asset.headers["content-type"].split(";")[0]
            assert kind in CONTENT_TYPES[url[url.rindex(".") :]], (url, kind)
            assert asset.content
        bundle = next(url for url in urls if url.endswith(".js"))
        assert script in (await client.get(bundle)).text

    async def test_page_points_at_the_served_spec(self, client: httpx.AsyncClient) -> None:
        html = (await client.get("/docs")).text
        assert "'/openapi.json'" in html
        spec = (await client.get("/openapi.json")).json()
        assert "/v1/discovery_tasks" in spec["paths"]
        assert not {"/docs", "/redoc"} & set(spec["paths"])

    async def test_asset_folder_serves_nothing_else(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/docs/assets/../core.py")).status_code == 404
        assert (await client.get("/docs/assets/missing.js")).status_code == 404

    async def test_urls_keep_the_proxy_prefix(self, proxied: httpx.AsyncClient) -> None:
        html = (await proxied.get("/api/docs")).text
        urls = page_links(html)
        assert urls and all(url.startswith("/api/docs/assets/") for url in urls)
        assert "'/api/openapi.json'" in html
        assert (await proxied.get(urls[0])).status_code == 200
