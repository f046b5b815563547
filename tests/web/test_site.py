"""Website profiles through the page cache, on SQLite and PostgreSQL: every fact names its page, a rerun
fetches nothing, and a page that cannot be read gives a reason instead of an error."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from firmscout.config import WebSettings
from firmscout.storage.tables import utcnow
from firmscout.web.fetch import Fetcher
from firmscout.web.pages import PageReader
from firmscout.web.site import read_website
from tests.servers.web import LoopbackWeb
from tests.web.test_fetch import seam


@pytest.fixture
async def fetcher(fake_web: LoopbackWeb) -> AsyncIterator[Fetcher]:
    fetcher = Fetcher(WebSettings(proxy_url=fake_web.proxy_url, per_host_delay_s=0.0, deadline_s=5.0),
                      resolver=seam)
    yield fetcher
    await fetcher.aclose()


def _reader(fetcher: Fetcher, sessions: async_sessionmaker[AsyncSession], **settings: object) -> PageReader:
    return PageReader(fetcher, sessions, WebSettings(**settings))  # type: ignore[arg-type]


def _page_loads(web: LoopbackWeb) -> list[str]:
    return [r.target for r in web.requests if r.method == "GET" and not r.target.endswith("/robots.txt")]


class TestWebsiteProfile:
    async def test_facts_come_from_json_ld_with_the_page_they_are_on(
        self, fetcher: Fetcher, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        site = await read_website(_reader(fetcher, sessions), "acme.example", max_pages=4)
        assert site.error is None and site.moved_to is None
        assert site.name is not None and site.name.value == "Acme Robotics GmbH"
        assert site.name.url == "http://acme.example/"
        assert site.country is not None and site.country.value == "Germany"
        assert site.founded_year is not None and site.founded_year.value == 2009
        assert site.linkedin_url == "https://www.linkedin.com/company/acme"
        read = [page.url for page in site.pages]
        assert read[0] == "acme.example" and "http://acme.example/about" in read and len(read) <= 4
        assert not [url for url in read if "login" in url or "privacy" in url]
        assert all(p.url.startswith("http://acme.example/") for p in site.passages)

    async def test_a_rerun_fetches_nothing(
        self, fetcher: Fetcher, sessions: async_sessionmaker[AsyncSession], fake_web: LoopbackWeb
    ) -> None:
        first = await read_website(_reader(fetcher, sessions), "graph.example", max_pages=4)
        loads = len(_page_loads(fake_web))
        again = await read_website(_reader(fetcher, sessions), "graph.example", max_pages=4)
        assert loads >= 2 and len(_page_loads(fake_web)) == loads
        assert all(page.cached for page in again.pages) and again.fetched == 0
        assert again.name == first.name and again.passages == first.passages

    async def test_a_stale_page_is_fetched_again(
        self, fetcher: Fetcher, sessions: async_sessionmaker[AsyncSession], fake_web: LoopbackWeb
    ) -> None:
        await read_website(_reader(fetcher, sessions), "metaonly.example", max_pages=1)
        later = utcnow() + timedelta(days=8)
        reader = PageReader(fetcher, sessions, WebSettings(), clock=lambda: later)
        loads = len(_page_loads(fake_web))
        again = await read_website(reader, "metaonly.example", max_pages=1)
        assert not again.pages[0].cached and len(_page_loads(fake_web)) == loads + 1

    async def test_a_rebrand_is_recorded(self, fetcher: Fetcher, sessions: async_sessionmaker[AsyncSession]) -> None:
        site = await read_website(_reader(fetcher, sessions), "old.example", max_pages=1)
        assert site.moved_to == "new.example" and site.name is not None and site.name.value == "New Brand Inc."

    async def test_www_and_apex_are_one_site(
        self, fetcher: Fetcher, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        assert (await read_website(_reader(fetcher, sessions), "beta.example", max_pages=1)).moved_to is None

    @pytest.mark.parametrize(("domain", "reason"), [("blocked.example", "robots"), ("pdf.test", "content_type"),
                                                     ("huge.test", "too_large"), ("bomb.test", "too_large")])
    async def test_a_site_that_cannot_be_read_says_why_and_the_refusal_is_kept(
        self, fetcher: Fetcher, sessions: async_sessionmaker[AsyncSession], fake_web: LoopbackWeb,
        domain: str, reason: str,
    ) -> None:
        site = await read_website(_reader(fetcher, sessions), domain, max_pages=4)
        assert site.error == reason and site.name is None and len(site.pages) == 1
        fake_web.reset()
        again = await read_website(_reader(fetcher, sessions), domain, max_pages=4)
        assert again.error == reason and again.pages[0].cached and fake_web.requests == []

    async def test_a_server_error_is_not_kept(
        self, fetcher: Fetcher, sessions: async_sessionmaker[AsyncSession], fake_web: LoopbackWeb
    ) -> None:
        assert (await read_website(_reader(fetcher, sessions), "broken.test", max_pages=1)).error == "http_status"
        fake_web.reset()
        again = await read_website(_reader(fetcher, sessions), "broken.test", max_pages=1)
        assert not again.pages[0].cached and fake_web.requests


def test_utcnow_is_aware() -> None:
    assert isinstance(utcnow(), datetime) and utcnow().tzinfo is not None


class TestSharedPace:
    async def test_two_processes_ask_one_host_at_one_pace(
        self, pg_database: str, fake_web: LoopbackWeb
    ) -> None:
        # Two fetchers stand for two worker processes sharing one PostgreSQL database.
        from firmscout.storage.db import create_engine, session_factory
        from firmscout.storage.migrate import upgrade
        from firmscout.web.pages import shared_pace

        upgrade(pg_database)
        engine = create_engine(pg_database)
        sessions = session_factory(engine)
        settings = WebSettings(proxy_url=fake_web.proxy_url, per_host_delay_s=0.4, deadline_s=10.0)
        fetchers = [Fetcher(settings, resolver=seam, pace=shared_pace(sessions)) for _ in range(2)]
        started = time.monotonic()
        try:
            await asyncio.gather(*(f.fetch(f"http://graph.example{path}") for f in fetchers
                                   for path in ("/", "/about")))
        finally:
            for fetcher in fetchers:
                await fetcher.aclose()
            await engine.dispose()
        # Six requests (a robots.txt and two pages per process), one host: five gaps of 0.4 s at least.
        assert len(fake_web.requests_to("graph.example")) == 6
        assert time.monotonic() - started >= 5 * 0.4 - 0.05
