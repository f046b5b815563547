"""The pipeline run of one task: funnel counters, failure, and re-runs that change nothing."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools

import pytest
from sqlalchemy import func, select, text

from firmscout.entities import SearchRequest
from firmscout.errors import SourceError
from firmscout.pipeline.runner import GRADE_CHUNK, run_task
from firmscout.pipeline.stages.evaluate import LocalGrader
from firmscout.sources.base import SourcePage
from firmscout.storage.tables import Candidate, DiscoveryTask
from firmscout.tasks import accounts
from firmscout.tasks.runtime import Runtime
from firmscout.tasks.service import NewTask
from firmscout.worker import pipeline_deps
from tests.factories import company, create_companies

COUNTERS = ("num_results_discovered", "num_results_enriched", "num_results_evaluated", "num_results")


async def _task(runtime: Runtime, task_id: str) -> DiscoveryTask:
    async with runtime.sessions() as session:
        row = await session.get(DiscoveryTask, task_id, populate_existing=True)
    assert row is not None
    return row


async def _spanish_banks(runtime: Runtime, n: int) -> None:
    await create_companies(runtime, [
        company(f"banco{i}.es", f"Banco {i}", country="Spain" if i % 3 else "Portugal",
                industries=("Banks",), description="Retail bank") for i in range(n)
    ])


class TestFunnel:
    @pytest.mark.usefixtures("worker")
    async def test_counters_never_decrease_and_narrow_down_the_funnel(self, runtime: Runtime) -> None:
        await _spanish_banks(runtime, 90)
        caller = await accounts.local_caller(runtime.sessions)
        task = await runtime.service.create(caller, NewTask(query="banks in Spain", desired_num_results=250))
        seen: list[tuple[int, ...]] = []
        while True:
            row = await _task(runtime, task.id)
            seen.append(tuple(getattr(row, c) for c in COUNTERS))
            if row.status in ("done", "failed"):
                break
            await asyncio.sleep(0.005)
        assert row.status == "done"
        for discovered, enriched, evaluated, results in seen:
            assert discovered >= enriched >= evaluated >= results
        for before, after in itertools.pairwise(seen):
            assert all(b <= a for b, a in zip(before, after, strict=True)), (before, after)
        assert seen[-1][3] == 60, "the 60 Spanish banks; the Portuguese ones fail geography"


class TestRerun:
    async def test_running_a_done_task_again_changes_nothing(self, runtime: Runtime) -> None:
        await _spanish_banks(runtime, 12)
        caller = await accounts.local_caller(runtime.sessions)
        task = await runtime.service.create(caller, NewTask(query="banks in Spain", desired_num_results=5))
        deps = pipeline_deps(runtime)
        await run_task(deps, task.id)
        first = await _task(runtime, task.id)
        assert first.status == "done" and first.num_results == 5
        await run_task(deps, task.id)
        second = await _task(runtime, task.id)
        assert [getattr(second, c) for c in COUNTERS] == [getattr(first, c) for c in COUNTERS]
        async with runtime.sessions() as session:
            stored = await session.scalar(select(func.count()).select_from(Candidate).where(
                Candidate.task_id == task.id))
        assert stored == second.num_results_discovered


class TestFailure:
    async def test_a_broken_source_fails_the_task_with_an_error_then_resume_recovers(
        self, runtime: Runtime
    ) -> None:
        await _spanish_banks(runtime, 6)
        caller = await accounts.local_caller(runtime.sessions)
        task = await runtime.service.create(caller, NewTask(query="banks in Spain", desired_num_results=3))
        async with runtime.engine.begin() as conn:
            await conn.execute(text("ALTER TABLE company RENAME TO company_away"))
        deps = pipeline_deps(runtime)
        await run_task(deps, task.id)
        failed = await _task(runtime, task.id)
        assert failed.status == "failed"
        assert failed.stop_reason == "failed"
        assert failed.error and "extruct_db" in failed.error

        async with runtime.engine.begin() as conn:
            await conn.execute(text("ALTER TABLE company_away RENAME TO company"))
        resumed = await runtime.service.resume(caller, task.id, 0)
        assert resumed.status == "in_progress" and resumed.error is None
        await run_task(deps, task.id)
        done = await _task(runtime, task.id)
        assert done.status == "done" and done.num_results == 3


class _SaysTryLater:
    """A source whose provider answers "try later" (HTTP 429 style): a transient failure."""

    name = "extruct_db"

    async def search(self, request: SearchRequest, cursor: str | None, limit: int) -> SourcePage:
        raise SourceError("rate limited; retry in 30 s", transient=True)


class TestTransientFailure:
    async def test_is_retried_by_the_queue_until_the_last_attempt_fails_the_task(self, runtime: Runtime) -> None:
        caller = await accounts.local_caller(runtime.sessions)
        task = await runtime.service.create(caller, NewTask(query="banks in Spain", desired_num_results=3))
        deps = dataclasses.replace(pipeline_deps(runtime), sources={"extruct_db": _SaysTryLater()})
        with pytest.raises(SourceError):
            await run_task(deps, task.id, last_attempt=False)
        assert (await _task(runtime, task.id)).status == "in_progress"
        await run_task(deps, task.id, last_attempt=True)
        failed = await _task(runtime, task.id)
        assert failed.status == "failed" and failed.error == "rate limited; retry in 30 s"


class _CountingGrader:
    """The local grader, counting the companies it is asked about (what an LLM grader would bill)."""

    def __init__(self) -> None:
        self.asked = 0
        self._local = LocalGrader()

    async def grade(self, criteria, profiles, plan):  # type: ignore[no-untyped-def]
        self.asked += len(profiles)
        return await self._local.grade(criteria, profiles, plan)


class TestGradingStopsAtTheTarget:
    async def test_a_large_step_grades_at_most_one_chunk_past_the_target(self, runtime: Runtime) -> None:
        await _spanish_banks(runtime, 150)  # 100 in Spain, every one a high fit
        caller = await accounts.local_caller(runtime.sessions)
        task = await runtime.service.create(caller, NewTask(query="banks in Spain", desired_num_results=3))
        grader = _CountingGrader()
        deps = dataclasses.replace(pipeline_deps(runtime), grader=grader,
                                   settings=runtime.settings.pipeline.model_copy(update={"batch_size": 100}))
        await run_task(deps, task.id)
        row = await _task(runtime, task.id)
        assert row.status == "done" and row.num_results == 3
        assert grader.asked == GRADE_CHUNK, "one grader call of one chunk, not the whole step of 100"
        assert row.num_results_evaluated == 3  # the rest of the step stays enriched, for a resume
