"""Composition of the shared parts a process needs: engine, sessions, queue, sources, task service."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from firmscout.config import Settings
from firmscout.queue.base import JobQueue
from firmscout.queue.inprocess import InProcessQueue
from firmscout.sources.base import Source
from firmscout.sources.registry import build_semantic, build_sources
from firmscout.storage import migrate
from firmscout.storage.db import create_engine, session_factory
from firmscout.storage.reader import TaskReader, task_reader
from firmscout.tasks.service import TaskService

if TYPE_CHECKING:
    from firmscout.embeddings.service import SemanticRetriever


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    queue: JobQueue
    sources: dict[str, Source]
    service: TaskService
    reader: TaskReader
    # Dense retrieval (the [semantic] extra), shared by the local source and the local grader; None when off.
    semantic: SemanticRetriever | None = None

    async def close(self) -> None:
        await self.reader.close()
        await self.engine.dispose()


async def open_runtime(settings: Settings, *, migrate_first: bool = True) -> Runtime:
    """Migrate the database to head (unless the caller's parent process already did), then build everything;
    safe to call from several processes."""
    url = settings.resolved_database_url()
    if migrate_first:
        await asyncio.to_thread(migrate.upgrade, url)
    engine = create_engine(url, pool_size=settings.db.pool_size, max_overflow=settings.db.max_overflow)
    sessions = session_factory(engine)
    queue = _build_queue(settings, sessions)
    semantic = build_semantic(settings, sessions)
    sources = build_sources(settings, sessions, semantic)
    reader = task_reader(url, engine, pool_size=settings.db.read_pool_size)
    service = TaskService(sessions, queue, available_sources=list(sources), reader=reader)
    return Runtime(settings, engine, sessions, queue, sources, service, reader, semantic)


def _build_queue(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> JobQueue:
    if settings.queue_backend() == "procrastinate":
        # Imported here: procrastinate is needed only on PostgreSQL deployments.
        from firmscout.queue.procrastinate import ProcrastinateQueue

        return ProcrastinateQueue(settings.resolved_database_url(), sessions, settings.worker, settings.queue)
    return InProcessQueue(sessions, settings.worker)
