"""The PostgreSQL queue: the job is part of the transaction that creates or resumes the task."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from firmscout.queue.procrastinate import JOB_NAME, ProcrastinateQueue
from firmscout.storage.db import unit_of_work
from firmscout.tasks import accounts
from firmscout.tasks.runtime import Runtime
from firmscout.tasks.service import NewTask


@pytest.fixture(params=["postgresql"])
def database_url(request: pytest.FixtureRequest, pg_database: str) -> str:
    """Only PostgreSQL: procrastinate keeps its jobs there."""
    return pg_database


async def _jobs(runtime: Runtime) -> list[dict[str, Any]]:
    async with runtime.sessions() as session:
        rows = await session.execute(text(
            "SELECT task_name, args, queueing_lock, lock, status FROM procrastinate_jobs ORDER BY id"))
    return [dict(r._mapping) for r in rows]


class TestDeferInTheSameTransaction:
    async def test_runtime_on_postgresql_uses_procrastinate(self, runtime: Runtime) -> None:
        assert isinstance(runtime.queue, ProcrastinateQueue)

    async def test_create_commits_the_task_and_its_job_together(self, runtime: Runtime) -> None:
        caller = await accounts.local_caller(runtime.sessions)
        task = await runtime.service.create(caller, NewTask(query="banks in Spain"))
        assert await _jobs(runtime) == [{
            "task_name": JOB_NAME, "args": {"task_id": task.id}, "queueing_lock": f"discovery_task:{task.id}",
            "lock": f"discovery_task:{task.id}", "status": "todo",
        }]

    async def test_a_rolled_back_transaction_leaves_no_job(self, runtime: Runtime) -> None:
        class Abort(Exception):
            pass

        with pytest.raises(Abort):
            async with unit_of_work(runtime.sessions) as session:
                await runtime.queue.enqueue(session, "3f1e1c0e-0000-4000-8000-000000000000")
                raise Abort
        assert await _jobs(runtime) == []

    async def test_resume_while_queued_keeps_one_job_and_commits_the_new_target(self, runtime: Runtime) -> None:
        caller = await accounts.local_caller(runtime.sessions)
        task = await runtime.service.create(caller, NewTask(query="banks in Spain", desired_num_results=5))
        resumed = await runtime.service.resume(caller, task.id, 10)
        assert resumed.desired_num_results == 15
        assert (await runtime.service.get(caller, task.id)).desired_num_results == 15
        assert len(await _jobs(runtime)) == 1
