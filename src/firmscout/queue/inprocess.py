"""Embedded queue (SQLite): the discovery_task row is the job, claimed with a renewable lease by the worker of
the one process that serves the database.

Restart-safe by construction: nothing lives only in memory. After a crash the lease of the task that was
running expires, the restarted process claims the task again, and the pipeline resumes from its checkpoints.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from firmscout.config import WorkerSettings
from firmscout.queue.base import Handler
from firmscout.storage.db import after_commit, unit_of_work
from firmscout.storage.repositories import tasks as task_repo

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


class InProcessQueue:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: WorkerSettings) -> None:
        self._sessions = sessions
        self._settings = settings
        self._wake = asyncio.Event()
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    async def enqueue(self, session: AsyncSession, task_id: str, *, new: bool = False) -> None:
        if not new:
            await task_repo.make_claimable(session, task_id)

        # Wake idle workers in this process only after the commit: before it, the row is invisible to them.
        after_commit(session, self._wake.set)

    async def _claim(self) -> str | None:
        lease = timedelta(seconds=self._settings.lease_s)
        async with unit_of_work(self._sessions) as session:
            now = _now()
            return await task_repo.claim_next(session, owner=self.worker_id, now=now, until=now + lease)

    async def _heartbeat(self, task_id: str) -> None:
        lease = timedelta(seconds=self._settings.lease_s)
        while True:
            await asyncio.sleep(self._settings.lease_s / 3)
            try:
                async with unit_of_work(self._sessions) as session:
                    await task_repo.renew_lease(session, task_id, owner=self.worker_id, until=_now() + lease)
            except Exception:  # a missed beat is retried; the lease has two more beats of slack
                log.exception("lease renewal failed for task %s", task_id)

    async def _run_one(self, handler: Handler, task_id: str) -> None:
        beat = asyncio.create_task(self._heartbeat(task_id))
        try:
            # Attempts are counted on the task row; the handler gives up on its own past max_attempts.
            await handler(task_id, False)
        except Exception:
            # Keep the lease: it expires after lease_s, which is the retry backoff. The handler counts
            # attempts and fails the task for good past worker.max_attempts.
            log.exception("task %s: handler raised; retrying after the lease expires", task_id)
            return
        finally:
            beat.cancel()
        async with unit_of_work(self._sessions) as session:
            await task_repo.release_lease(session, task_id, owner=self.worker_id)
        self._wake.set()  # the task may need another pass (resumed while running)

    async def run_worker(self, handler: Handler, stop: asyncio.Event) -> None:
        slots = asyncio.Semaphore(self._settings.concurrency)
        running: set[asyncio.Task[None]] = set()
        while not stop.is_set():
            await slots.acquire()
            task_id: str | None = None
            try:
                task_id = await self._claim()
            except Exception:
                log.exception("claiming a task failed; retrying")
            if task_id is None:
                slots.release()
                self._wake.clear()
                waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
                await asyncio.wait(waiters, timeout=self._settings.poll_interval_s,
                                   return_when=asyncio.FIRST_COMPLETED)
                for waiter in waiters:
                    waiter.cancel()
                continue
            job = asyncio.create_task(self._run_one(handler, task_id))
            running.add(job)
            job.add_done_callback(running.discard)
            job.add_done_callback(lambda _job: slots.release())
        if running:
            await asyncio.gather(*running, return_exceptions=True)
