"""Pages as the pipeline reads them: through the guarded fetcher and the page cache, extracted once.

A page fetched (or refused) within the cache's time-to-live is never fetched again, so a retry, a resume or
a repeated task costs no request.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from firmscout.config import WebSettings
from firmscout.storage.db import read_only, unit_of_work
from firmscout.storage.repositories import pages as page_repo
from firmscout.storage.tables import utcnow
from firmscout.web.extract import Fact, Link, PageFacts, page_facts, plain_text
from firmscout.web.fetch import Fetcher, FetchError, Pace


@dataclass(frozen=True)
class PageOutcome:
    """What reading one URL gave: its facts, or the reason it could not be read."""

    url: str
    facts: PageFacts | None
    error: str | None = None
    detail: str | None = None
    cached: bool = False
    bytes: int = 0


class PageReader:
    def __init__(self, fetcher: Fetcher, sessions: async_sessionmaker[AsyncSession], settings: WebSettings,
                 *, clock: Callable[[], datetime] = utcnow) -> None:
        self._fetcher = fetcher
        self._sessions = sessions
        self._settings = settings
        self._clock = clock

    async def read(self, url: str, *, site: bool = False) -> PageOutcome:
        """The page at `url` (with `site`, a bare domain's homepage, https then http)."""
        since = self._clock() - timedelta(seconds=self._settings.cache_ttl_s)
        async with read_only(self._sessions) as session:
            stored = await page_repo.fresh_page(session, url, since=since)
        if stored is not None:
            facts = facts_from_json(stored.facts) if stored.facts else None
            return PageOutcome(url, facts, stored.error, stored.error_detail, cached=True)
        try:
            fetched = await (self._fetcher.fetch_site(url) if site else self._fetcher.fetch(url))
        except FetchError as exc:
            if not _transient(exc):
                await self._save(url, error=exc.reason, error_detail=exc.detail or None)
            return PageOutcome(url, None, exc.reason, exc.detail or None)
        if fetched.content_type == "text/plain":
            facts = PageFacts(url=fetched.final_url, title=None, name=None, description=None, country=None,
                              city=None, founded_year=None, employees=None, same_as=(), linkedin_url=None,
                              text=plain_text(fetched.text), headings=(), links=())
        else:
            facts = page_facts(fetched.text, fetched.final_url)
        await self._save(
            url, final_url=fetched.final_url, status=fetched.status, content_type=fetched.content_type,
            content_hash=hashlib.sha256(fetched.text.encode("utf-8", "replace")).hexdigest(),
            facts=facts_to_json(facts), html=fetched.text if self._settings.keep_html else None, bytes=fetched.bytes,
        )
        return PageOutcome(url, facts, bytes=fetched.bytes)

    async def _save(self, url: str, **values: Any) -> None:
        blank = {"final_url": None, "status": None, "content_type": None, "content_hash": None, "facts": None,
                 "html": None, "bytes": 0, "error": None, "error_detail": None}
        async with unit_of_work(self._sessions) as session:
            await page_repo.save_page(session, url, **{**blank, **values, "fetched_at": self._clock()})


def shared_pace(sessions: async_sessionmaker[AsyncSession]) -> Pace:
    """Hosts' delays kept in the database, so every worker process asks a site at the one pace."""

    async def pace(origin: str, delay: float) -> float:
        now = time.time()
        async with unit_of_work(sessions) as session:
            start = await page_repo.take_host_slot(session, origin, now=now, delay=delay)
        return start - now

    return pace


def _transient(exc: FetchError) -> bool:
    # Worth asking again on the next read; refusals and 4xx are kept for the cache's lifetime.
    return exc.reason in ("unreachable", "timeout", "rate_limited") or exc.detail.startswith("HTTP 5")


def facts_to_json(facts: PageFacts) -> dict[str, Any]:
    return asdict(facts)


def facts_from_json(data: dict[str, Any]) -> PageFacts:
    def fact(value: Any) -> Fact | None:
        if not isinstance(value, dict):
            return None
        inner = value.get("value")
        if isinstance(inner, list):
            inner = tuple(str(item) for item in inner)
        if not isinstance(inner, str | int | tuple):
            return None
        return Fact(inner, str(value.get("url", "")))

    fact_fields = ("name", "description", "country", "city", "founded_year", "employees")
    return PageFacts(
        url=str(data.get("url", "")),
        title=data.get("title"),
        **{name: fact(data.get(name)) for name in fact_fields},
        same_as=tuple(data.get("same_as") or ()),
        linkedin_url=data.get("linkedin_url"),
        text=data.get("text"),
        headings=tuple(data.get("headings") or ()),
        links=tuple(Link(str(link["url"]), str(link.get("text", ""))) for link in data.get("links") or ()),
    )
