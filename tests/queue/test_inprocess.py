"""The embedded queue: the task row is the job; a lease decides who works it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from firmscout.storage.db import unit_of_work
from firmscout.storage.repositories import tasks as task_repo
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
