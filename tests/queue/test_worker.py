"""One worker suite for both queues (the in-process queue on SQLite, procrastinate on PostgreSQL): every queued
task is worked to `done` once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from firmscout.config import Settings
from firmscout.tasks import accounts
from firmscout.tasks.runtime import Runtime
from firmscout.tasks.service import NewTask
from tests.factories import company, create_companies


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path, database_url=database_url,
        worker={"poll_interval_s": 0.05, "lease_s": 2.0, "concurrency": 2},  # type: ignore[arg-type]
        queue={"stalled_after_s": 2.0, "heartbeat_s": 0.5},  # type: ignore[arg-type]
        pipeline={"batch_size": 5},  # type: ignore[arg-type]
    )


async def _wait_done(runtime: Runtime, caller: accounts.Caller, task_id: str) -> None:
    for _ in range(600):
        if (await runtime.service.get(caller, task_id)).status in ("done", "failed"):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"task {task_id} not finished")


class TestWorker:
    @pytest.mark.usefixtures("worker")
    async def test_queued_tasks_and_a_resume_are_each_worked_to_done(self, runtime: Runtime) -> None:
        await create_companies(runtime, [
            company(f"bank{i}.es", f"Bank {i}", country="Spain", industries=("Banks",)) for i in range(30)
        ])
        caller = await accounts.local_caller(runtime.sessions)
        tasks = [await runtime.service.create(caller, NewTask(query="banks in Spain", desired_num_results=n))
                 for n in (3, 5, 8)]
        for task in tasks:
            await _wait_done(runtime, caller, task.id)
        assert [(await runtime.service.get(caller, t.id)).num_results for t in tasks] == [3, 5, 8]

        await runtime.service.resume(caller, tasks[0].id, 4)
        await _wait_done(runtime, caller, tasks[0].id)
        resumed = await runtime.service.get(caller, tasks[0].id)
        assert resumed.status == "done" and resumed.num_results == 7
        page = await runtime.service.results(caller, tasks[0].id, offset=0, limit=250)
        assert len({r.domain for r in page.results}) == 7
