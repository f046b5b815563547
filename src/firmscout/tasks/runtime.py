"""The composition root: the parts a process shares (engine, sessions, queue, sources, reader, task service),
opened and closed by one async context manager."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from firmscout.catalog.service import seed_builtin
from firmscout.config import Settings
from firmscout.llm.registry import llm_list_reader
from firmscout.queue.base import JobQueue
from firmscout.queue.inprocess import InProcessQueue
from firmscout.sources.base import Source
from firmscout.sources.registry import build_semantic, build_sources
from firmscout.sources.search.base import PlaceSearch, SearchProvider
from firmscout.sources.search.registry import build_places, build_provider
from firmscout.storage import dialects, migrate
from firmscout.storage.db import create_engine, session_factory
from firmscout.storage.dialects import Dialect
from firmscout.storage.views import TaskReader
from firmscout.tasks.service import TaskService
from firmscout.web.fetch import Fetcher, Resolver, system_resolver
from firmscout.web.pages import PageReader, shared_pace

if TYPE_CHECKING:
    from firmscout.embeddings.service import SemanticRetriever


@dataclass
class Runtime:
    settings: Settings
    dialect: Dialect
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    queue: JobQueue
    sources: dict[str, Source]
    service: TaskService
    reader: TaskReader
    # Dense retrieval (the [semantic] extra), shared by the local source and the local grader; None when off.
    semantic: SemanticRetriever | None = None
    # Companies the built-in database gained at this start (0 when it was already loaded).
    seeded: int = 0
    # Reads companies' websites when FIRMSCOUT_WEB__ENRICH says so; None: the pipeline stays offline.
    pages: PageReader | None = None

    def own(self) -> AbstractContextManager[None]:
        """Claim the database for this process's worker; on SQLite a second one is refused with the fix."""
        return self.dialect.own(make_url(self.settings.resolved_database_url()))


def embedded(settings: Settings) -> bool:
    """Whether one process serves the database with its worker in-process (SQLite), or many share it."""
    return dialects.for_url(settings.resolved_database_url()).embedded


@asynccontextmanager
async def open_runtime(
    settings: Settings, *, migrate_first: bool = True, seed: bool = False, own: bool = False,
    resolver: Resolver = system_resolver,
) -> AsyncIterator[Runtime]:
    """Everything a process needs, closed on exit.

    `own`: this is a long-lived process that runs a worker (`serve`, `worker`); on SQLite only one may.
    `migrate_first`: bring the schema to head (safe from several processes at once). `seed`: load the built-in
    companies into an empty company database, as `FIRMSCOUT_SEED_BUILTIN_COMPANIES` allows. `resolver`
    looks host names up for the web fetcher (tests replace it).
    """
    url = settings.resolved_database_url()
    dialect = dialects.for_url(url)
    with dialect.own(make_url(url)) if own else nullcontext():
        if migrate_first:
            await asyncio.to_thread(migrate.upgrade, url)
        engine = create_engine(url, pool_size=settings.db.pool_size, max_overflow=settings.db.max_overflow)
        reader = dialect.reader(engine, pool_size=settings.db.read_pool_size)
        sessions = session_factory(engine)
        # One pace per host for every worker process on PostgreSQL; the one SQLite process keeps its own.
        pace = None if dialect.embedded else shared_pace(sessions)
        fetcher = Fetcher(settings.web, resolver=resolver, pace=pace) if reads_web(settings) else None
        provider: SearchProvider | None = None
        places: PlaceSearch | None = None
        try:
            queue = _build_queue(settings, dialect, sessions)
            semantic = build_semantic(settings, sessions)
            pages = PageReader(fetcher, sessions, settings.web) if fetcher is not None else None
            provider = build_provider(settings.web)
            places = build_places(settings.web)
            lists = llm_list_reader(settings) if provider is not None and pages is not None else None
            sources = build_sources(settings, sessions, semantic, pages, provider, places=places, lists=lists)
            service = TaskService(sessions, queue, available_sources=list(sources), reader=reader)
            seeded = await seed_builtin(sessions) if seed and settings.seed_builtin_companies else 0
            yield Runtime(settings, dialect, engine, sessions, queue, sources, service, reader, semantic, seeded, pages)
        finally:
            if provider is not None:
                await provider.aclose()
            if places is not None:
                await places.aclose()
            if fetcher is not None:
                await fetcher.aclose()
            await reader.close()
            await engine.dispose()


def reads_web(settings: Settings) -> bool:
    """FIRMSCOUT_WEB__ENRICH: on, off, or auto (on once there is a way out: a proxy, a search or places provider)."""
    web = settings.web
    return web.enrich == "on" or (web.enrich == "auto" and bool(web.proxy_url or web.search_provider or
                                                                 web.places_provider))


def _build_queue(settings: Settings, dialect: Dialect, sessions: async_sessionmaker[AsyncSession]) -> JobQueue:
    if dialect.embedded:
        return InProcessQueue(sessions, settings.worker)
    # Imported here: procrastinate is needed only on PostgreSQL deployments.
    from firmscout.queue.procrastinate import ProcrastinateQueue

    return ProcrastinateQueue(settings.resolved_database_url(), sessions, settings.worker, settings.queue)
