"""The PostgreSQL queue: the job is part of the transaction that creates or resumes the task."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import pytest
from procrastinate.jobs import Status
from sqlalchemy import text

from firmscout.config import QueueSettings, WorkerSettings
from firmscout.pipeline.runner import run_task
from firmscout.queue.procrastinate import JOB_NAME, ProcrastinateQueue
from firmscout.storage.db import unit_of_work
from firmscout.storage.repositories import tasks as task_repo
from firmscout.tasks import accounts
from firmscout.tasks.runtime import Runtime
from firmscout.tasks.service import NewTask
from firmscout.worker import pipeline_deps, run_worker
from tests.factories import company, create_companies


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


    async def test_a_second_enqueue_while_queued_is_a_no_op_and_the_transaction_still_commits(
        self, runtime: Runtime
    ) -> None:
        caller = await accounts.local_caller(runtime.sessions)
        task = await runtime.service.create(caller, NewTask(query="banks in Spain"))
        async with unit_of_work(runtime.sessions) as session:
            await runtime.queue.enqueue(session, task.id)
            await runtime.queue.enqueue(session, task.id)
            await session.execute(text("UPDATE discovery_task SET desired_num_results = 7 WHERE id = :id"),
                                  {"id": task.id})
        assert (await runtime.service.get(caller, task.id)).desired_num_results == 7
        assert len(await _jobs(runtime)) == 1

    async def test_resume_after_the_job_ended_queues_a_new_one(self, runtime: Runtime) -> None:
        caller = await accounts.local_caller(runtime.sessions)
        task = await runtime.service.create(caller, NewTask(query="banks in Spain", desired_num_results=5))
        assert isinstance(runtime.queue, ProcrastinateQueue)
        app = runtime.queue.app
        async with app.open_async():
            worker_id = await app.job_manager.register_worker()
            job = await app.job_manager.fetch_job(queues=None, worker_id=worker_id)
            assert job is not None
            await app.job_manager.finish_job(job, status=Status.SUCCEEDED, delete_job=True)
        assert await _jobs(runtime) == []
        await runtime.service.resume(caller, task.id, 5)
        assert [(j["args"], j["status"]) for j in await _jobs(runtime)] == [({"task_id": task.id}, "todo")]


async def _wait_until(predicate: Callable[[], Awaitable[bool]], seconds: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, what
        await asyncio.sleep(0.05)


class TestAJobRunningWhileItsTaskIsQueuedAgain:
    """A resume while the task's job runs queues a second job (the queueing lock only covers waiting
    jobs). procrastinate's own retry would put the first job back in the queue under the same queueing
    lock, which the second one holds: the retry fails, the first job stays `doing` for ever and its `lock`
    keeps the second one from starting (procrastinate issues #1446, #1543). Both must still finish."""

    async def test_a_run_that_fails_after_a_resume_is_followed_by_another_run(self, runtime: Runtime) -> None:
        caller = await accounts.local_caller(runtime.sessions)
        task = await runtime.service.create(caller, NewTask(query="banks in Spain"))
        started, release = asyncio.Event(), asyncio.Event()
        runs: list[bool] = []

        async def handler(task_id: str, last_attempt: bool) -> None:
            runs.append(last_attempt)
            if len(runs) == 1:
                started.set()
                await release.wait()
                raise ConnectionError("the database went away")  # a transient failure: retried

        stop = asyncio.Event()
        worker = asyncio.create_task(runtime.queue.run_worker(handler, stop))
        try:
            await asyncio.wait_for(started.wait(), 10)
            await runtime.service.resume(caller, task.id, 5)
            release.set()

            async def settled() -> bool:
                return len(runs) >= 2 and not [j for j in await _jobs(runtime) if j["status"] in ("todo", "doing")]

            await _wait_until(settled, 15, f"the task was not run again: runs={runs}, jobs={await _jobs(runtime)}")
        finally:
            stop.set()
            await asyncio.wait_for(worker, 30)

    async def test_a_dead_workers_job_is_recovered_when_a_resume_queued_another(self, runtime: Runtime) -> None:
        await create_companies(runtime, [
            company(f"bank{i}.es", f"Bank {i}", country="Spain", industries=("Banks",)) for i in range(12)
        ])
        caller = await accounts.local_caller(runtime.sessions)
        task = await runtime.service.create(caller, NewTask(query="banks in Spain", desired_num_results=3))
        assert isinstance(runtime.queue, ProcrastinateQueue)
        app = runtime.queue.app
        async with app.open_async():  # a worker takes the job, then dies without a word
            dead = await app.job_manager.register_worker()
            taken = await app.job_manager.fetch_job(queues=None, worker_id=dead)
        assert taken is not None and taken.task_kwargs == {"task_id": task.id}
        await runtime.service.resume(caller, task.id, 2)
        assert sorted(j["status"] for j in await _jobs(runtime)) == ["doing", "todo"]

        stop = asyncio.Event()
        worker = asyncio.create_task(run_worker(runtime, stop))
        try:
            async def done() -> bool:
                return (await runtime.service.get(caller, task.id)).status == "done"

            await _wait_until(done, 20, f"task not done; jobs={await _jobs(runtime)}")
            assert (await runtime.service.get(caller, task.id)).num_results == 5
        finally:
            stop.set()
            await asyncio.wait_for(worker, 30)


class TestUnfinishedRuns:
    async def test_a_failing_run_is_retried_and_the_last_attempt_is_flagged(
        self, runtime: Runtime, database_url: str
    ) -> None:
        caller = await accounts.local_caller(runtime.sessions)
        task = await runtime.service.create(caller, NewTask(query="banks in Spain"))
        queue = ProcrastinateQueue(database_url, runtime.sessions, WorkerSettings(max_attempts=2),
                                   QueueSettings(stalled_after_s=2.0, heartbeat_s=0.5))
        runs: list[bool] = []

        async def handler(task_id: str, last_attempt: bool) -> None:
            runs.append(last_attempt)
            if not last_attempt:
                raise ConnectionError("the database went away")

        stop = asyncio.Event()
        worker = asyncio.create_task(queue.run_worker(handler, stop))
        try:
            async def settled() -> bool:
                return len(runs) == 2 and await _jobs(runtime) == []

            await _wait_until(settled, 15, f"runs={runs}, jobs={await _jobs(runtime)}")
        finally:
            stop.set()
            await asyncio.wait_for(worker, 30)
        assert runs == [False, True]
        async with runtime.sessions() as session:
            stored = await task_repo.get_task(session, task.id)
        assert stored is not None and stored.attempts == 2  # one per run, on the task row

    async def test_a_run_cut_off_by_shutdown_leaves_the_task_queued(self, runtime: Runtime, database_url: str) -> None:
        caller = await accounts.local_caller(runtime.sessions)
        task = await runtime.service.create(caller, NewTask(query="banks in Spain"))
        queue = ProcrastinateQueue(database_url, runtime.sessions, WorkerSettings(),
                                   QueueSettings(shutdown_grace_s=0.2))
        started = asyncio.Event()

        async def handler(task_id: str, last_attempt: bool) -> None:
            started.set()
            await asyncio.Event().wait()  # a step that outlasts the shutdown grace

        stop = asyncio.Event()
        worker = asyncio.create_task(queue.run_worker(handler, stop))
        await asyncio.wait_for(started.wait(), 10)
        stop.set()
        await asyncio.wait_for(worker, 10)
        jobs = await _jobs(runtime)
        assert sorted(j["status"] for j in jobs) == ["aborted", "todo"]
        assert {j["args"]["task_id"] for j in jobs} == {task.id}


class TestSweepForTasksWithoutAJob:
    """A run that fails hands its task over by deferring a new job; if the database stays down longer than
    the hand-over's retries, the job ends `failed` and nothing would ever run the task again. Workers
    sweep for such tasks at start and periodically, and queue them again under the queueing lock."""

    async def test_a_task_whose_hand_over_failed_is_queued_again_and_finishes(
        self, runtime: Runtime, database_url: str
    ) -> None:
        await create_companies(runtime, [
            company(f"bank{i}.es", f"Bank {i}", country="Spain", industries=("Banks",)) for i in range(6)
        ])
        caller = await accounts.local_caller(runtime.sessions)

        class DatabaseDownDuringTheFirstHandOver(ProcrastinateQueue):
            failures = 1

            async def _hand_over(self, task_id: str, *, delay_s: float) -> None:
                if self.failures:
                    self.failures -= 1
                    raise ConnectionError("the database is still down")
                await super()._hand_over(task_id, delay_s=delay_s)

        queue = DatabaseDownDuringTheFirstHandOver(
            database_url, runtime.sessions, WorkerSettings(), QueueSettings(sweep_interval_s=0.3))
        run_pipeline = partial(run_task, pipeline_deps(runtime))
        runs: list[str] = []

        async def handler(task_id: str, last_attempt: bool) -> None:
            runs.append(task_id)
            if len(runs) == 1:
                raise ConnectionError("the database went away")  # transient: the run hands over
            await run_pipeline(task_id, last_attempt)

        stop = asyncio.Event()
        worker = asyncio.create_task(queue.run_worker(handler, stop))
        try:
            # Created after the worker's start-up sweep, so only the periodic sweep can rescue it.
            await asyncio.sleep(0.5)
            task = await runtime.service.create(caller, NewTask(query="banks in Spain", desired_num_results=3))

            async def done() -> bool:
                return (await runtime.service.get(caller, task.id)).status == "done"

            await _wait_until(done, 20, f"task not done: runs={len(runs)}, jobs={await _jobs(runtime)}")
        finally:
            stop.set()
            await asyncio.wait_for(worker, 30)
        assert len(runs) == 2
        assert sorted(j["status"] for j in await _jobs(runtime)) == ["failed"]  # the first; the second succeeded

    async def test_a_task_with_a_waiting_or_running_job_is_left_alone(self, runtime: Runtime) -> None:
        caller = await accounts.local_caller(runtime.sessions)
        waiting = await runtime.service.create(caller, NewTask(query="banks in Spain"))
        running = await runtime.service.create(caller, NewTask(query="banks in Spain"))
        assert isinstance(runtime.queue, ProcrastinateQueue)
        app = runtime.queue.app
        async with app.open_async():
            worker_id = await app.job_manager.register_worker()
            taken = await app.job_manager.fetch_job(queues=None, worker_id=worker_id)
        assert taken is not None and taken.task_kwargs == {"task_id": waiting.id}  # oldest first
        before = await _jobs(runtime)
        async with app.open_async():
            assert await runtime.queue.sweep() == []
        assert await _jobs(runtime) == before
        assert {j["args"]["task_id"] for j in before} == {waiting.id, running.id}

    async def test_two_sweeps_at_once_queue_one_job(self, runtime: Runtime) -> None:
        caller = await accounts.local_caller(runtime.sessions)
        task = await runtime.service.create(caller, NewTask(query="banks in Spain"))
        async with runtime.sessions() as session, session.begin():
            await session.execute(text("DELETE FROM procrastinate_jobs"))  # the job is gone, the task is not
        assert isinstance(runtime.queue, ProcrastinateQueue)
        async with runtime.queue.app.open_async():
            swept = await asyncio.gather(runtime.queue.sweep(), runtime.queue.sweep())
        assert [task.id] in swept
        jobs = await _jobs(runtime)
        assert [(j["args"], j["status"]) for j in jobs] == [({"task_id": task.id}, "todo")]
