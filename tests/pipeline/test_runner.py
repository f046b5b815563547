"""The pipeline run of one task: funnel counters, failure, and re-runs that change nothing."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from typing import ClassVar

import pytest
from sqlalchemy import func, select, text

from firmscout.entities import CompanyProfile, SearchRequest, SourceHit
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
    async def test_a_broken_source_stops_the_task_saying_why_then_resume_recovers(
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
        assert (failed.status, failed.stop_reason) == ("done", "source_failed")
        assert failed.error and failed.error.startswith("extruct_db: ") and not failed.is_exhausted

        async with runtime.engine.begin() as conn:
            await conn.execute(text("ALTER TABLE company_away RENAME TO company"))
        resumed = await runtime.service.resume(caller, task.id, 0)
        assert resumed.status == "in_progress" and resumed.error is None
        await run_task(deps, task.id)
        done = await _task(runtime, task.id)
        assert done.status == "done" and done.num_results == 3


class TestCancel:
    async def test_a_cancelled_task_stops_keeps_its_results_and_resumes(self, runtime: Runtime) -> None:
        await _spanish_banks(runtime, 12)
        caller = await accounts.local_caller(runtime.sessions)
        task = await runtime.service.create(caller, NewTask(query="banks in Spain", desired_num_results=5))
        deps = pipeline_deps(runtime)
        cancelled = await runtime.service.cancel(caller, task.id)
        assert (cancelled.status, cancelled.stop_reason) == ("done", "cancelled")
        await run_task(deps, task.id)  # the queued job finds it stopped
        assert (await _task(runtime, task.id)).num_results_discovered == 0
        again = await runtime.service.cancel(caller, task.id)
        assert (again.status, again.stop_reason) == ("done", "cancelled"), "cancelling twice changes nothing"
        resumed = await runtime.service.resume(caller, task.id, 0)
        assert resumed.status == "in_progress" and resumed.stop_reason is None
        await run_task(deps, task.id)
        done = await _task(runtime, task.id)
        assert (done.status, done.stop_reason, done.num_results) == ("done", "target_reached", 5)


class _SaysTryLater:
    """A source whose provider answers "try later" (HTTP 429 style): a transient failure."""

    name = "extruct_db"

    async def search(self, request: SearchRequest, cursor: str | None, limit: int) -> SourcePage:
        raise SourceError("rate limited; retry in 30 s", transient=True)


class TestTransientFailure:
    async def test_is_retried_by_the_queue_until_the_last_attempt_stops_the_source(self, runtime: Runtime) -> None:
        caller = await accounts.local_caller(runtime.sessions)
        task = await runtime.service.create(caller, NewTask(query="banks in Spain", desired_num_results=3))
        deps = dataclasses.replace(pipeline_deps(runtime), sources={"extruct_db": _SaysTryLater()})
        with pytest.raises(SourceError):
            await run_task(deps, task.id, last_attempt=False)
        assert (await _task(runtime, task.id)).status == "in_progress"
        await run_task(deps, task.id, last_attempt=True)
        failed = await _task(runtime, task.id)
        assert (failed.status, failed.stop_reason) == ("done", "source_failed")
        assert failed.error == "extruct_db: rate limited; retry in 30 s"


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


class _Scripted:
    """A source returning the given companies, in the given order, on one page."""

    name = "extruct_db"

    def __init__(self, profiles: list[CompanyProfile]) -> None:
        self._hits = tuple(SourceHit(p.domain, p.name, self.name, profile=p) for p in profiles)

    async def search(self, request: SearchRequest, cursor: str | None, limit: int) -> SourcePage:
        return SourcePage(hits=self._hits, next_cursor=None)


def _bank(domain: str, **fields: object) -> CompanyProfile:
    values: dict[str, object] = {"country": "Spain", "industries": ("Banks",), "sources": (f"https://{domain}",)}
    values.update(fields)
    return CompanyProfile(domain=domain, name=domain.split(".")[0].title(), **values)  # type: ignore[arg-type]


async def _run(runtime: Runtime, query: str, profiles: list[CompanyProfile], n: int = 25) -> str:
    caller = await accounts.local_caller(runtime.sessions)
    task = await runtime.service.create(caller, NewTask(query=query, desired_num_results=n))
    await run_task(dataclasses.replace(pipeline_deps(runtime), sources={"extruct_db": _Scripted(profiles)}), task.id)
    return task.id


class TestRemovals:
    async def test_each_criterion_counts_the_candidates_it_failed_and_a_rerun_adds_nothing(
        self, runtime: Runtime
    ) -> None:
        profiles = [
            _bank("bbva.com"),
            _bank("bpi.pt", country="Portugal"),  # known elsewhere: the pre-filter drops it
            _bank("telefonica.com", industries=("Telecommunications",), description="Spanish telecom operator"),
            # Dropped before grading, so only what the pre-filter checks (place, size, founding, status) counts.
            _bank("novo.pt", country="Portugal", industries=("Telecommunications",)),
        ]
        task_id = await _run(runtime, "banks in Spain", profiles)
        row = await _task(runtime, task_id)
        assert row.status == "done" and row.num_results == 1
        expected = {"considered": 4, "by_criterion": {"geography": 2, "industry_focus": 1}, "duplicates": 0}
        assert row.candidates_removed == expected
        async with runtime.sessions() as session:
            stages = dict((await session.execute(
                select(Candidate.domain, Candidate.removed_by).where(Candidate.task_id == task_id))).all())
        assert stages == {"bbva.com": None, "bpi.pt": ["geography"], "telefonica.com": ["industry_focus"],
                          "novo.pt": ["geography"]}
        await run_task(pipeline_deps(runtime), task_id)
        assert (await _task(runtime, task_id)).candidates_removed == expected

    async def test_the_api_view_carries_the_tally(self, runtime: Runtime) -> None:
        task_id = await _run(runtime, "banks in Spain", [_bank("bpi.pt", country="Portugal")])
        caller = await accounts.local_caller(runtime.sessions)
        view = await runtime.service.get(caller, task_id)
        assert view.num_results == 0
        assert view.candidates_removed == {"considered": 1, "by_criterion": {"geography": 1}, "duplicates": 0}


class TestResultOrder:
    # All graded 5 on both criteria (relevance 100) but the last; the rest differ in evidence, then prominence,
    # then only in their domain.
    COMPANIES: ClassVar[list[CompanyProfile]] = [
        _bank("0-weaker.es", industries=(), description="A bank"),  # industry from the text only: relevance 88
        _bank("z-cited.es", sources=("https://z-cited.es", "https://en.wikipedia.org/wiki/Z")),  # two pages
        _bank("y-large.es", employees=100_000),
        _bank("x-listed.es", status="Public"),
        _bank("c-plain.es"),
        _bank("b-plain.es"),
    ]
    EXPECTED: ClassVar[list[str]] = [
        "z-cited.es", "y-large.es", "x-listed.es", "b-plain.es", "c-plain.es", "0-weaker.es",
    ]

    async def _order(self, runtime: Runtime, profiles: list[CompanyProfile]) -> list[tuple[str, int]]:
        task_id = await _run(runtime, "banks in Spain", profiles)
        caller = await accounts.local_caller(runtime.sessions)
        page = await runtime.service.results(caller, task_id, offset=0, limit=50)
        return [(r.domain, r.relevance or 0) for r in page.results]

    async def test_ties_in_relevance_go_to_evidence_then_prominence_then_domain(self, runtime: Runtime) -> None:
        first = await self._order(runtime, self.COMPANIES)
        assert [domain for domain, _ in first] == self.EXPECTED
        assert [relevance for _, relevance in first] == [100] * 5 + [88]

    async def test_the_same_input_gives_the_same_order_whatever_the_discovery_order(
        self, runtime: Runtime
    ) -> None:
        first = await self._order(runtime, self.COMPANIES)
        again = await self._order(runtime, self.COMPANIES)
        reversed_discovery = await self._order(runtime, self.COMPANIES[::-1])
        assert first == again == reversed_discovery
