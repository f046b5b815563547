"""The embedded queue: the task row is the job; a lease decides who works it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from firmscout.config import WorkerSettings
from firmscout.queue.inprocess import InProcessQueue
from firmscout.storage.db import unit_of_work
from firmscout.storage.repositories import tasks as task_repo
from firmscout.storage.tables import DiscoveryTask
from firmscout.tasks.runtime import Runtime
from firmscout.tasks.service import NewTask
from tests.factories import create_token


async def _claim(runtime: Runtime, owner: str, now: datetime) -> str | None:
    async with unit_of_work(runtime.sessions) as session:
        return await task_repo.claim_next(session, owner=owner, now=now, until=now + timedelta(seconds=30))


class TestLease:
    async def test_a_task_is_claimed_by_one_worker_at_a_time(self, runtime: Runtime) -> None:
        await create_token(runtime)
        from firmscout.tasks import accounts

        caller = await accounts.local_caller(runtime.sessions)
        task = await runtime.service.create(caller, NewTask(query="banks"))
        now = datetime.now(UTC)
        assert await _claim(runtime, "a", now) == task.id
        assert await _claim(runtime, "b", now) is None

    async def test_an_expired_lease_is_taken_over(self, runtime: Runtime) -> None:
        from firmscout.tasks import accounts

        caller = await accounts.local_caller(runtime.sessions)
        task = await runtime.service.create(caller, NewTask(query="banks"))
        now = datetime.now(UTC)
        assert await _claim(runtime, "dead-worker", now) == task.id
        assert await _claim(runtime, "b", now + timedelta(seconds=31)) == task.id
        async with runtime.sessions() as session:
            row = await task_repo.get_task(session, task.id)
        assert row is not None and row.lease_owner == "b" and row.attempts == 2

    async def test_finished_tasks_are_not_claimed(self, runtime: Runtime) -> None:
        from firmscout.tasks import accounts

        caller = await accounts.local_caller(runtime.sessions)
        task = await runtime.service.create(caller, NewTask(query="banks"))
        async with unit_of_work(runtime.sessions) as session:
            await task_repo.update_task(session, task.id, status="done")
        assert await _claim(runtime, "a", datetime.now(UTC)) is None


class TestWakeUp:
    """An idle worker starts a new task as soon as the transaction that queued it commits, not at its next
    poll; a transaction that rolls back wakes nobody."""

    async def _queue_task(self, runtime: Runtime, queue: InProcessQueue, *, commit: bool) -> str:
        from firmscout.tasks import accounts

        caller = await accounts.local_caller(runtime.sessions)
        task = DiscoveryTask(user_id=caller.user_id, organization_id=caller.organization_id, query="banks",
                             desired_num_results=5)
        try:
            async with unit_of_work(runtime.sessions) as session:
                await task_repo.add_task(session, task)
                await queue.enqueue(session, task.id, new=True)
                if not commit:
                    raise RuntimeError("rolled back")
        except RuntimeError:
            pass
        return task.id

    async def test_a_committed_task_wakes_an_idle_worker(self, runtime: Runtime) -> None:
        # An hour between polls: only the wake-up can start the task within the test's time.
        queue = InProcessQueue(runtime.sessions, WorkerSettings(poll_interval_s=3600))
        handled: asyncio.Queue[str] = asyncio.Queue()

        async def handler(task_id: str, _resumed: bool) -> None:
            await handled.put(task_id)

        stop = asyncio.Event()
        worker = asyncio.create_task(queue.run_worker(handler, stop))
        try:
            await asyncio.sleep(0.2)  # the worker found nothing and is waiting
            await self._queue_task(runtime, queue, commit=False)
            task_id = await self._queue_task(runtime, queue, commit=True)
            assert await asyncio.wait_for(handled.get(), timeout=10) == task_id
            assert handled.empty()  # the rolled-back task never existed
        finally:
            stop.set()
            await asyncio.wait_for(worker, timeout=10)
