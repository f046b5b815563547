"""Scale-out queue on PostgreSQL: procrastinate jobs "discovery_task.run", carrying only the task id.

The job is deferred on the connection of the caller's SQLAlchemy transaction (procrastinate's
`configure(connection=...)`), so a task and its job commit or roll back together. `queueing_lock` keeps
at most one queued job per task; `lock` keeps one task from being worked by two workers at once. A
worker that dies stops sending heartbeats; after `stalled_after_s` another worker puts its jobs back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from typing import Any

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from firmscout.config import QueueSettings, WorkerSettings
from firmscout.queue.base import Handler

log = logging.getLogger(__name__)

JOB_NAME = "discovery_task.run"
QUEUE_NAME = "discovery_task"


def _conninfo(url: str) -> str:
    # procrastinate's pool speaks libpq URLs; drop SQLAlchemy's "+driver" suffix.
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class ProcrastinateQueue:
    def __init__(self, database_url: str, worker: WorkerSettings, queue: QueueSettings) -> None:
        self._worker = worker
        self._queue = queue
        self._handler: Handler | None = None
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        self.app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=_conninfo(database_url)))
        retry = procrastinate.RetryStrategy(max_attempts=queue.retry_attempts, exponential_wait=2)
        self._job = self.app.task(name=JOB_NAME, queue=QUEUE_NAME, retry=retry, pass_context=True)(self._run_job)

    async def _run_job(self, context: procrastinate.JobContext, task_id: str) -> None:
        if self._handler is None:
            raise RuntimeError("a job arrived before run_worker installed its handler")
        # job.attempts counts earlier failed runs; the retry strategy stops retrying at retry_attempts.
        attempts = context.job.attempts if context.job else 0
        await self._handler(task_id, attempts >= self._queue.retry_attempts)

    async def enqueue(self, session: AsyncSession, task_id: str) -> None:
        connection = await session.connection()
        driver = (await connection.get_raw_connection()).driver_connection
        deferrer = self._job.configure(
            connection=driver, queueing_lock=f"discovery_task:{task_id}", lock=f"discovery_task:{task_id}"
        )
        # When a job for this task is already queued, the queueing lock's unique index rejects the insert,
        # and that error would abort the caller's whole transaction: PostgreSQL then answers its COMMIT with
        # a silent ROLLBACK, losing e.g. a resume's new target. So the insert runs under an explicit
        # SAVEPOINT, sent through the session (which also makes sure the transaction has begun);
        # SQLAlchemy's begin_nested() would not do, as it emits its SAVEPOINT only with its next statement.
        await session.execute(text("SAVEPOINT firmscout_enqueue"))
        try:
            await deferrer.defer_async(task_id=task_id)
        except AlreadyEnqueued:
            await session.execute(text("ROLLBACK TO SAVEPOINT firmscout_enqueue"))
            log.info("task %s already has a queued job; it will see this transaction's changes", task_id)
        else:
            await session.execute(text("RELEASE SAVEPOINT firmscout_enqueue"))

    async def _recover_stalled(self, stop: asyncio.Event) -> None:
        manager = self.app.job_manager
        while not stop.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._queue.stalled_after_s / 2)
            try:
                stalled = await manager.get_stalled_jobs(
                    task_name=JOB_NAME, seconds_since_heartbeat=self._queue.stalled_after_s
                )
                for job in stalled:
                    log.warning("retrying job %s of task %s: its worker stopped heartbeating", job.id,
                                job.task_kwargs.get("task_id"))
                    await manager.retry_job(job)
                await manager.prune_stalled_workers(self._queue.stalled_after_s)
            except Exception:  # the next round tries again; a dead database must not kill the worker
                log.exception("stalled-job recovery failed")

    async def run_worker(self, handler: Handler, stop: asyncio.Event) -> None:
        self._handler = handler
        options: dict[str, Any] = {
            "queues": [QUEUE_NAME],
            "concurrency": self._worker.concurrency,
            "name": self.worker_id,
            "wait": True,
            "install_signal_handlers": False,
            "fetch_job_polling_interval": self._worker.poll_interval_s * 10,
            "update_heartbeat_interval": self._queue.heartbeat_s,
            "stalled_worker_timeout": self._queue.stalled_after_s,
            "shutdown_graceful_timeout": self._queue.shutdown_grace_s,
            "delete_jobs": "successful",
        }
        async with self.app.open_async():
            worker = asyncio.create_task(self.app.run_worker_async(**options))
            recovery = asyncio.create_task(self._recover_stalled(stop))
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait([worker, stopping], return_when=asyncio.FIRST_COMPLETED)
            stop.set()
            # Cancelling run_worker_async is procrastinate's graceful stop: running jobs get
            # shutdown_graceful_timeout to finish (each pipeline step is a checkpoint) before they are cancelled.
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
            await recovery
