"""Scale-out queue on PostgreSQL: procrastinate jobs "discovery_task.run", carrying only the task id.

The job is deferred on the connection of the caller's SQLAlchemy transaction (procrastinate's
`configure(connection=...)`), so a task and its job commit or roll back together. `queueing_lock` keeps
at most one waiting job per task; `lock` keeps one task from being worked by two workers at once. A
worker that dies stops sending heartbeats; after `stalled_after_s` another worker hands its task over.

A run that does not finish is never put back with procrastinate's own retry (`retry_job`). A resume
while a job runs queues a second job under the same queueing lock (that lock only covers waiting jobs),
and `retry_job` would then violate it: the first job would stay `doing` for ever and its `lock` would
keep the second one from starting (procrastinate issues #1446 and #1543). Instead a job that fails, is
cut off by a shutdown or belonged to a dead worker *hands over*: it defers a fresh job for the task
under the queueing lock (a no-op when one is already waiting, which then does the work) and ends.
Attempts are counted on the task row, one per run, as the embedded queue counts claims.

A hand-over can itself fail: with the database down for longer than its pauses (about 15 s) the job
ends `failed` and no job is left for the task. Every worker therefore sweeps at start and every
`sweep_interval_s`: an unfinished task with neither a waiting nor a running job is deferred again
under its queueing lock, so two workers sweeping at once still queue one job.
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
from procrastinate.jobs import Status
from procrastinate.types import TimeDeltaParams
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from firmscout.config import QueueSettings, WorkerSettings
from firmscout.queue.base import Handler
from firmscout.storage.db import read_only, unit_of_work
from firmscout.storage.repositories import tasks as task_repo

log = logging.getLogger(__name__)

JOB_NAME = "discovery_task.run"
QUEUE_NAME = "discovery_task"
LOCK_PREFIX = "discovery_task:"
# Pauses between tries of a hand-over: the database failing is the usual reason for handing over.
HAND_OVER_PAUSES_S = (0.5, 1.0, 2.0, 4.0, 8.0)
SWEEP_LIMIT = 500
# Unfinished tasks that no job will run: none waits (`todo`, also a scheduled retry) and none runs (`doing`)
# under the task's lock. Each probe hits one of procrastinate's partial unique indexes; one statement, so one
# snapshot, in which a hand-over that defers the next job before ending the current one is never half seen.
_WITHOUT_JOB = text(
    "SELECT t.id FROM discovery_task t WHERE t.status IN ('created', 'in_progress')"
    " AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs j"
    "   WHERE j.queueing_lock = :prefix || t.id AND j.status = 'todo')"
    " AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs j"
    "   WHERE j.lock = :prefix || t.id AND j.status = 'doing')"
    " ORDER BY t.created_at LIMIT :limit"
)


class TaskMissing(LookupError):
    """A job names a discovery task that does not exist; the job fails loudly instead of retrying."""


def _conninfo(url: str) -> str:
    # procrastinate's pool speaks libpq URLs; drop SQLAlchemy's "+driver" suffix.
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class ProcrastinateQueue:
    def __init__(
        self,
        database_url: str,
        sessions: async_sessionmaker[AsyncSession],
        worker: WorkerSettings,
        queue: QueueSettings,
    ) -> None:
        self._sessions = sessions
        self._worker = worker
        self._queue = queue
        self._handler: Handler | None = None
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        self.app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=_conninfo(database_url)))
        # No retry strategy: unfinished runs hand over (module docstring).
        self._job = self.app.task(name=JOB_NAME, queue=QUEUE_NAME)(self._run_job)

    async def enqueue(self, session: AsyncSession, task_id: str, *, new: bool = False) -> None:
        await self._defer(session, task_id, new=new)

    async def _defer(self, session: AsyncSession, task_id: str, *, delay_s: float = 0.0, new: bool = False) -> None:
        connection = await session.connection()
        driver = (await connection.get_raw_connection()).driver_connection
        lock = f"{LOCK_PREFIX}{task_id}"
        deferrer = self._job.configure(
            connection=driver, queueing_lock=lock, lock=lock,
            schedule_in=TimeDeltaParams(milliseconds=int(delay_s * 1000)) if delay_s > 0 else None,
        )
        # When a job for this task is already queued, the queueing lock's unique index rejects the insert,
        # and that error would abort the caller's whole transaction: PostgreSQL then answers its COMMIT with
        # a silent ROLLBACK, losing e.g. a resume's new target. So the insert runs under an explicit
        # SAVEPOINT, sent through the session (which also makes sure the transaction has begun);
        # SQLAlchemy's begin_nested() would not do, as it emits its SAVEPOINT only with its next statement.
        # A task inserted in this very transaction has no job yet (its id is new), so nothing can conflict.
        if new:
            await session.flush()
            await deferrer.defer_async(task_id=task_id)
            return
        await session.execute(text("SAVEPOINT firmscout_enqueue"))
        try:
            await deferrer.defer_async(task_id=task_id)
        except AlreadyEnqueued:
            await session.execute(text("ROLLBACK TO SAVEPOINT firmscout_enqueue"))
            log.info("task %s already has a queued job; it will see this transaction's changes", task_id)
        else:
            await session.execute(text("RELEASE SAVEPOINT firmscout_enqueue"))

    async def _hand_over(self, task_id: str, *, delay_s: float) -> None:
        """Queue the task again (after `delay_s`) so that the current job may end without finishing it."""
        for pause in (*HAND_OVER_PAUSES_S, None):
            try:
                async with unit_of_work(self._sessions) as session:
                    await self._defer(session, task_id, delay_s=delay_s)
                return
            except Exception:
                if pause is None:
                    raise  # the job fails and is logged; the task waits for a resume
                log.warning("handing task %s over failed; trying again in %s s", task_id, pause, exc_info=True)
                await asyncio.sleep(pause)

    async def _count_run(self, task_id: str) -> int:
        async with unit_of_work(self._sessions) as session:
            run = await task_repo.count_run(session, task_id)
        if run is None:
            raise TaskMissing(f"discovery task {task_id} does not exist; dropping its job")
        return run

    async def _run_job(self, task_id: str) -> None:
        if self._handler is None:
            raise RuntimeError("a job arrived before run_worker installed its handler")
        run = 1
        try:
            run = await self._count_run(task_id)
            await self._handler(task_id, run >= self._worker.max_attempts)
        except TaskMissing:
            raise
        except asyncio.CancelledError:
            # Shutdown past shutdown_grace_s: the pipeline stopped between checkpoints; another worker resumes.
            await asyncio.shield(self._hand_over(task_id, delay_s=0))
            raise
        except Exception:
            # Backoff 2, 4, 8 … s, at most a minute; on run max_attempts the handler fails the task itself.
            delay = min(2.0**run, 60.0)
            log.exception("task %s: run %s failed; handing it over, next run in %.0f s", task_id, run, delay)
            await self._hand_over(task_id, delay_s=delay)

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
                    await self._recover(job)
                await manager.prune_stalled_workers(self._queue.stalled_after_s)
            except Exception:  # the next round tries again; a dead database must not kill the worker
                log.exception("stalled-job recovery failed")

    async def _recover(self, job: procrastinate.jobs.Job) -> None:
        task_id = str(job.task_kwargs.get("task_id"))
        log.warning("job %s of task %s: its worker stopped heartbeating; handing the task over", job.id, task_id)
        # Defer first, then end the dead job: a crash in between leaves the job stalled for the next round.
        # Two workers recovering the same job at once are harmless: the second defer is a no-op and the
        # second finish finds the job no longer `doing`.
        await self._hand_over(task_id, delay_s=0)
        try:
            await self.app.job_manager.finish_job(job, status=Status.FAILED, delete_job=False)
        except Exception:
            log.info("job %s was already ended by another worker", job.id)

    async def sweep(self) -> list[str]:
        """Queue again every unfinished task that has no job (module docstring); returns their ids."""
        async with read_only(self._sessions) as session:
            rows = await session.execute(_WITHOUT_JOB, {"prefix": LOCK_PREFIX, "limit": SWEEP_LIMIT})
            orphans = [str(task_id) for (task_id,) in rows.all()]
        for task_id in orphans:
            log.warning("task %s is unfinished but has no job (a failed hand-over?); queueing it again", task_id)
            async with unit_of_work(self._sessions) as session:
                await self._defer(session, task_id)
        return orphans

    async def _sweep_periodically(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.sweep()
            except Exception:  # the database may still be down: the next round tries again
                log.exception("sweeping for tasks without a job failed")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._queue.sweep_interval_s)

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
            sweeping = asyncio.create_task(self._sweep_periodically(stop))
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait([worker, stopping], return_when=asyncio.FIRST_COMPLETED)
            stop.set()
            # Cancelling run_worker_async is procrastinate's graceful stop: running jobs get
            # shutdown_graceful_timeout to finish (each pipeline step is a checkpoint) before they are
            # cancelled, and a cancelled run hands its task over.
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
            await recovery
            await sweeping
