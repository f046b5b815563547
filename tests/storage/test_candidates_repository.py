"""Candidate and progress queries the pipeline runner relies on between steps."""

from __future__ import annotations

from sqlalchemy import select

from firmscout.storage.db import unit_of_work
from firmscout.storage.removals import DUPLICATE, Removals
from firmscout.storage.repositories import candidates as candidate_repo
from firmscout.storage.repositories import tasks as task_repo
from firmscout.storage.tables import Candidate
from firmscout.tasks import accounts
from firmscout.tasks.runtime import Runtime
from firmscout.tasks.service import NewTask


async def _task_with_candidates(runtime: Runtime, domains: list[str]) -> str:
    caller = await accounts.local_caller(runtime.sessions)
    task = await runtime.service.create(caller, NewTask(query="banks in Spain"))
    rows = [{"domain": d, "source": "extruct_db", "hit": {"name": d}, "profile": None} for d in domains]
    async with unit_of_work(runtime.sessions) as session:
        await candidate_repo.insert_new(session, task.id, rows)
    return task.id



class TestInsertNew:
    async def test_only_unseen_domains_are_added_and_positions_continue(self, runtime: Runtime) -> None:
        task_id = await _task_with_candidates(runtime, ["a.es", "b.es"])
        rows = [
            {"domain": "b.es", "source": "extruct_db", "hit": {"name": "B again"}, "profile": None},
            {"domain": "c.es", "source": "web", "company_id": None, "hit": {"name": "C", "url": "https://c.es"},
             "profile": None},
            {"domain": "d.es", "source": "extruct_db", "company_id": 7, "hit": {}, "profile": {"name": "D"}},
        ]
        async with unit_of_work(runtime.sessions) as session:
            added = await candidate_repo.insert_new(session, task_id, rows)
        assert added == 2
        async with runtime.sessions() as session:
            stored = await candidate_repo.next_batch(session, task_id, 10)
        assert [(c.domain, c.source, c.company_id, c.hit, c.profile) for c in stored] == [
            ("a.es", "extruct_db", None, {"name": "a.es"}, None),
            ("b.es", "extruct_db", None, {"name": "b.es"}, None),  # the first sighting stays
            ("c.es", "web", None, {"name": "C", "url": "https://c.es"}, None),
            ("d.es", "extruct_db", 7, {}, {"name": "D"}),
        ]
        positions = [c.position for c in stored]
        assert positions == sorted(positions) and len(set(positions)) == 4  # a skipped repeat may leave a gap
        assert {c.stage for c in stored} == {"discovered"} and not any(c.is_high_fit for c in stored)


class TestNextBatch:
    async def test_enriched_candidates_come_first_and_a_batch_holds_one_stage(self, runtime: Runtime) -> None:
        task_id = await _task_with_candidates(runtime, ["a.es", "b.es", "c.es", "d.es"])
        async with runtime.sessions() as session:
            first = await candidate_repo.next_batch(session, task_id, 10)
        assert [c.domain for c in first] == ["a.es", "b.es", "c.es", "d.es"]
        assert {c.stage for c in first} == {"discovered"}
        async with unit_of_work(runtime.sessions) as session:
            await candidate_repo.settle(session, from_stage="discovered",
                                        rows=[{"id": c.id, "stage": "enriched"} for c in first[2:]])
        async with runtime.sessions() as session:
            second = await candidate_repo.next_batch(session, task_id, 10)
            limited = await candidate_repo.next_batch(session, task_id, 1)
        assert [(c.domain, c.stage) for c in second] == [("c.es", "enriched"), ("d.es", "enriched")]
        assert [c.domain for c in limited] == ["c.es"]

    async def test_an_empty_funnel_gives_an_empty_batch(self, runtime: Runtime) -> None:
        task_id = await _task_with_candidates(runtime, [])
        async with runtime.sessions() as session:
            assert await candidate_repo.next_batch(session, task_id, 10) == []


class TestReplay:
    async def test_a_replayed_settle_never_rewinds_a_candidate_and_says_it_moved_less(self, runtime: Runtime) -> None:
        task_id = await _task_with_candidates(runtime, ["a.es", "b.es"])
        async with runtime.sessions() as session:
            ids = [c.id for c in await candidate_repo.next_batch(session, task_id, 10)]
        enrich = [{"id": i, "stage": "enriched"} for i in ids]
        async with unit_of_work(runtime.sessions) as session:
            assert await candidate_repo.settle(session, from_stage="discovered", rows=enrich) == (
                candidate_repo.Moves(enriched=2, evaluated=0, results=0))
            await candidate_repo.settle(session, from_stage="enriched", rows=[{"id": ids[0], "stage": "filtered"}])
        async with unit_of_work(runtime.sessions) as session:  # the first step again, as after a crash
            assert await candidate_repo.settle(session, from_stage="discovered", rows=enrich) in (
                None, candidate_repo.Moves(0, 0, 0))
        async with runtime.sessions() as session:
            left = await candidate_repo.next_batch(session, task_id, 10)
        assert [(c.domain, c.stage) for c in left] == [("b.es", "enriched")]


class TestRefreshCounters:
    async def test_returns_the_progress_its_own_transaction_wrote(self, runtime: Runtime) -> None:
        task_id = await _task_with_candidates(runtime, ["a.es", "b.es", "c.es"])
        async with runtime.sessions() as session:
            ids = [c.id for c in await candidate_repo.next_batch(session, task_id, 10)]
        async with unit_of_work(runtime.sessions) as session:
            await candidate_repo.settle(session, from_stage="discovered",
                                        rows=[{"id": i, "stage": "enriched"} for i in ids[:2]])
            progress = await task_repo.refresh_counters(session, task_id)
        async with runtime.sessions() as session:
            stored = await task_repo.get_task(session, task_id)
        assert stored is not None and progress is not None
        assert progress == task_repo.progress_of(stored)
        assert (stored.num_results_discovered, stored.num_results_enriched) == (3, 2)
        assert progress.status == "created" and progress.desired_num_results == stored.desired_num_results

    async def test_a_task_that_is_gone_has_no_progress(self, runtime: Runtime) -> None:
        async with unit_of_work(runtime.sessions) as session:
            assert await task_repo.refresh_counters(session, "3f1e1c0e-0000-4000-8000-000000000000") is None


class TestSettle:
    async def test_moves_each_row_to_its_stage_and_counts_what_moved(self, runtime: Runtime) -> None:
        task_id = await _task_with_candidates(runtime, ["a.es", "b.es", "c.es", "d.es"])
        async with runtime.sessions() as session:
            a, b, c, d = await candidate_repo.next_batch(session, task_id, 10)
        rows = [
            {"id": a.id, "stage": "evaluated", "profile": {"name": "A"}, "scores": {"bank": 5}, "relevance": 90,
             "is_high_fit": True},
            {"id": b.id, "stage": "evaluated", "scores": {"bank": 1}, "relevance": 10, "is_high_fit": False,
             "removed_by": ["bank"]},
            {"id": c.id, "stage": "enriched", "profile": {"name": "C"}},
            {"id": d.id, "stage": "filtered", "removed_by": ["bank", "spain"]},
        ]
        async with unit_of_work(runtime.sessions) as session:
            moves = await candidate_repo.settle(session, from_stage="discovered", rows=rows)
        assert moves == candidate_repo.Moves(enriched=1, evaluated=2, results=1,
                                             removals=Removals(3, {"bank": 2, "spain": 1}, 0))
        async with runtime.sessions() as session:
            evaluated = select(Candidate).where(Candidate.task_id == task_id, Candidate.stage == "evaluated")
            stored = {row.domain: row for row in await session.scalars(evaluated)}
            left = await candidate_repo.next_batch(session, task_id, 10)
        assert (stored["a.es"].profile, stored["a.es"].scores, stored["a.es"].is_high_fit) == (
            {"name": "A"}, {"bank": 5}, True)
        assert stored["b.es"].profile is None and stored["b.es"].relevance == 10  # no profile given: none written
        assert [(row.domain, row.stage, row.profile) for row in left] == [("c.es", "enriched", {"name": "C"})]

    async def test_a_replay_moves_nothing_again(self, runtime: Runtime) -> None:
        task_id = await _task_with_candidates(runtime, ["a.es", "b.es"])
        async with runtime.sessions() as session:
            a, b = await candidate_repo.next_batch(session, task_id, 10)
        rows = [{"id": a.id, "stage": "evaluated", "scores": {}, "relevance": 1, "is_high_fit": True},
                {"id": b.id, "stage": "filtered"}]
        async with unit_of_work(runtime.sessions) as session:
            await candidate_repo.settle(session, from_stage="discovered", rows=rows[:1])
        async with unit_of_work(runtime.sessions) as session:  # the whole step again, as after a crash
            moves = await candidate_repo.settle(session, from_stage="discovered", rows=rows)
        # PostgreSQL says exactly what moved; SQLite's executemany cannot, and the caller recounts.
        # b, filtered only now, reached its verdict in this step.
        only_b = candidate_repo.Moves(enriched=0, evaluated=0, results=0, removals=Removals(considered=1))
        assert moves in (only_b, None)
        async with unit_of_work(runtime.sessions) as session:
            progress = await task_repo.refresh_counters(session, task_id)
        assert progress is not None and (progress.num_results_discovered, progress.num_results) == (2, 1)


class TestRemovals:
    async def test_a_step_adds_what_it_removed_and_a_replay_recount_gives_the_same_tally(
        self, runtime: Runtime
    ) -> None:
        task_id = await _task_with_candidates(runtime, ["a.es", "b.es", "c.es", "d.es"])
        async with runtime.sessions() as session:
            a, b, c, d = await candidate_repo.next_batch(session, task_id, 10)
        rows = [
            {"id": a.id, "stage": "evaluated", "scores": {}, "relevance": 100, "is_high_fit": True},
            {"id": b.id, "stage": "evaluated", "scores": {}, "relevance": 0, "is_high_fit": False,
             "removed_by": ["industry_focus", "geography"]},
            {"id": c.id, "stage": "filtered", "removed_by": ["geography"]},
            {"id": d.id, "stage": "filtered", "removed_by": [DUPLICATE]},
        ]
        async with unit_of_work(runtime.sessions) as session:
            moves = await candidate_repo.settle(session, from_stage="discovered", rows=rows[:2])
            assert moves is not None
            await task_repo.add_removals(session, task_id, moves.removals)
        async with unit_of_work(runtime.sessions) as session:
            moves = await candidate_repo.settle(session, from_stage="discovered", rows=rows[2:])
            assert moves is not None
            await task_repo.add_removals(session, task_id, moves.removals)
        expected = {"considered": 4, "by_criterion": {"geography": 2, "industry_focus": 1}, "duplicates": 1}
        async with runtime.sessions() as session:
            stored = await task_repo.get_task(session, task_id)
        assert stored is not None and stored.candidates_removed == expected
        async with unit_of_work(runtime.sessions) as session:  # the whole step again, as after a crash
            moves = await candidate_repo.settle(session, from_stage="discovered", rows=rows)
            if moves is None:  # SQLite cannot tell what moved: the runner recounts
                await task_repo.recount_removals(session, task_id)
            else:
                assert not moves.removals
                await task_repo.add_removals(session, task_id, moves.removals)
        async with runtime.sessions() as session:
            again = await task_repo.get_task(session, task_id)
        assert again is not None and again.candidates_removed == expected, "never counted twice"

    async def test_a_task_from_before_the_tally_is_recounted_from_its_rows(self, runtime: Runtime) -> None:
        task_id = await _task_with_candidates(runtime, ["a.es", "b.es"])
        async with runtime.sessions() as session:
            a, b = await candidate_repo.next_batch(session, task_id, 10)
        async with unit_of_work(runtime.sessions) as session:
            await task_repo.update_task(session, task_id, candidates_removed=None)
            await candidate_repo.settle(session, from_stage="discovered", rows=[{"id": a.id, "stage": "filtered"}])
        async with unit_of_work(runtime.sessions) as session:
            moves = await candidate_repo.settle(session, from_stage="discovered",
                                                rows=[{"id": b.id, "stage": "filtered", "removed_by": ["x"]}])
            assert moves is not None
            await task_repo.add_removals(session, task_id, moves.removals)
        async with runtime.sessions() as session:
            stored = await task_repo.get_task(session, task_id)
        assert stored is not None
        assert stored.candidates_removed == {"considered": 2, "by_criterion": {"x": 1}, "duplicates": 0}
