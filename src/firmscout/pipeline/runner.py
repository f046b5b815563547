"""Run one discovery task to completion, checkpointing every step in the database.

Each step reads what it needs, does its work outside any transaction, then persists its output in one
transaction that also recomputes the task's counters. A step re-run after a crash finds its inputs
already advanced (conditional updates, unique keys) and changes nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from firmscout.config import PipelineSettings
from firmscout.entities import CompanyProfile, Plan, SearchRequest, TokenUsage
from firmscout.errors import FirmscoutError, LLMError
from firmscout.pipeline.stages import discover, enrich, evaluate
from firmscout.pipeline.stages.plan import Planner, make_plan, refine_plan
from firmscout.sources.base import Source
from firmscout.storage.db import is_transient, unit_of_work
from firmscout.storage.repositories import candidates as candidate_repo
from firmscout.storage.repositories import tasks as task_repo
from firmscout.storage.tables import DiscoveryTask
from firmscout.telemetry import STAGE_DURATION

log = logging.getLogger(__name__)


class TaskGone(FirmscoutError):
    """The queued task no longer exists."""


@dataclass(frozen=True)
class PipelineDeps:
    sessions: async_sessionmaker[AsyncSession]
    sources: Mapping[str, Source]
    grader: evaluate.Grader
    settings: PipelineSettings
    max_attempts: int = 5
    # An LLM that refines the local plan (criteria inference, query expansion); None: the parser's plan.
    planner: Planner | None = None


async def run_task(deps: PipelineDeps, task_id: str, last_attempt: bool = False) -> None:
    """Queue handler: advance the task until it is done or failed.

    Transient failures (the database connection dropped, a source said "try later") propagate, so the
    queue retries the task from its checkpoints; on the last attempt they fail it instead. Any other
    error fails the task at once with a readable `error`.
    """
    try:
        await _run(deps, task_id)
    except TaskGone:
        raise
    except DBAPIError as exc:
        if is_transient(exc) and not last_attempt:
            raise
        await _fail(deps, task_id, f"database error: {_first_line(exc)}")
    except FirmscoutError as exc:
        if getattr(exc, "transient", False) and not last_attempt:
            raise
        await _fail(deps, task_id, exc.message)
    except Exception as exc:
        log.exception("task %s failed", task_id)
        await _fail(deps, task_id, f"internal error: {type(exc).__name__}: {exc}")


def _first_line(exc: BaseException) -> str:
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]


async def _fail(deps: PipelineDeps, task_id: str, message: str) -> None:
    async with unit_of_work(deps.sessions) as session:
        await task_repo.update_task(session, task_id, status="failed", stop_reason="failed", error=message)


async def _load(deps: PipelineDeps, task_id: str) -> DiscoveryTask:
    async with deps.sessions() as session:
        task = await task_repo.get_task(session, task_id)
    if task is None:
        raise TaskGone(f"discovery task {task_id} does not exist")
    return task


async def _start(deps: PipelineDeps, task: DiscoveryTask) -> Plan:
    if task.attempts > deps.max_attempts:
        raise FirmscoutError(f"gave up after {task.attempts - 1} interrupted attempts; resume to retry")
    plan = Plan.from_dict(task.plan) if task.plan else make_plan(task.query, task.criteria)
    values: dict[str, object] = {"status": "in_progress"}
    if not task.plan:
        values |= {"plan": plan.to_dict(), "criteria": [c.to_dict() for c in plan.criteria]}
    usage = TokenUsage()
    # Refined once, before anything is discovered: the stored "llm:…" plan is the checkpoint, so a re-run
    # never asks again, and candidates are never graded against two different sets of criteria.
    if deps.planner is not None and plan.planned_by == "local" and task.num_results_discovered == 0:
        plan, usage = await _refine(deps.planner, task.query, plan)
        values |= {"plan": plan.to_dict(), "criteria": [c.to_dict() for c in plan.criteria]}
    async with unit_of_work(deps.sessions) as session:
        await task_repo.update_task(session, task.id, **values)
        if usage.prompt_tokens or usage.completion_tokens:
            await task_repo.add_usage(session, task.id, usage.prompt_tokens, usage.completion_tokens)
    return plan


async def _refine(planner: Planner, query: str, plan: Plan) -> tuple[Plan, TokenUsage]:
    """Fails like grading does: a transient provider error goes back to the queue, any other fails the task."""
    try:
        draft = await planner.draft(query, None if plan.criteria_inferred else plan.criteria)
    except LLMError as exc:
        raise LLMError(f"planning the query with the LLM failed: {exc.message}", transient=exc.transient) from exc
    return refine_plan(plan, draft), draft.usage


async def _run(deps: PipelineDeps, task_id: str) -> None:
    task = await _load(deps, task_id)
    if task.status not in task_repo.ACTIVE_STATUSES:
        return
    plan = await _start(deps, task)
    excluded = frozenset(task.exclude_domains)
    while True:
        task = await _load(deps, task_id)
        if task.status != "in_progress":
            return
        target = task.desired_num_results
        if task.num_results >= target:
            await _finish(deps, task, "target_reached")
            return
        if await _timed("evaluate", _evaluate_batch(deps, task, plan)):
            continue
        if await _timed("enrich", _enrich_batch(deps, task, plan)):
            continue
        if await _timed("discover", _discover_round(deps, task, plan, excluded)):
            continue
        # Nothing left anywhere: every source ran dry and every candidate went through the funnel.
        await _finish(deps, task, "exhausted")
        return


async def _timed(stage: str, step: Awaitable[bool]) -> bool:
    """Run one step; record its duration only when it did work (an empty check is not a stage run)."""
    started = time.perf_counter()
    did_work = await step
    if did_work:
        STAGE_DURATION.labels(stage).observe(time.perf_counter() - started)
    return did_work


async def _finish(deps: PipelineDeps, task: DiscoveryTask, reason: str) -> None:
    async with unit_of_work(deps.sessions) as session:
        done = await task_repo.finish_task(
            session,
            task.id,
            seen_target=task.desired_num_results,
            stop_reason=reason,
            is_exhausted=reason == "exhausted" or task.is_exhausted,
        )
    if not done:
        log.info("task %s: target changed while finishing; continuing", task.id)
        await _run(deps, task.id)


async def _evaluate_batch(deps: PipelineDeps, task: DiscoveryTask, plan: Plan) -> bool:
    async with deps.sessions() as session:
        batch = await candidate_repo.pending(session, task.id, "enriched", deps.settings.batch_size)
    if not batch:
        return False
    profiles = [CompanyProfile.from_dict(c.profile or {}) for c in batch]
    graded = await deps.grader.grade(plan.criteria, profiles, plan)
    room = task.desired_num_results - task.num_results
    now = datetime.now(UTC)
    rows: list[dict[str, object]] = []
    for candidate, scores in zip(batch, graded.grades, strict=True):
        if room <= 0:
            break  # target reached: the rest stay enriched, to be evaluated first on resume
        result = evaluate.qualify(scores)
        rows.append({
            "id": candidate.id,
            "scores": {key: grade.to_dict() for key, grade in result.scores.items()},
            "relevance": result.relevance,
            "is_high_fit": result.is_high_fit,
            "evaluated_at": now,
        })
        room -= result.is_high_fit
    async with unit_of_work(deps.sessions) as session:
        await candidate_repo.advance_many(session, from_stage="enriched", to_stage="evaluated", rows=rows)
        await task_repo.refresh_counters(session, task.id)
        if graded.usage.prompt_tokens or graded.usage.completion_tokens:
            await task_repo.add_usage(session, task.id, graded.usage.prompt_tokens, graded.usage.completion_tokens)
    return True


async def _enrich_batch(deps: PipelineDeps, task: DiscoveryTask, plan: Plan) -> bool:
    async with deps.sessions() as session:
        batch = await candidate_repo.pending(session, task.id, "discovered", deps.settings.batch_size)
    if not batch:
        return False
    kept: list[dict[str, object]] = []
    dropped: list[dict[str, object]] = []
    for candidate in batch:
        profile = enrich.profile_from_hit(candidate.domain, candidate.hit, candidate.profile)
        if enrich.keep(plan, profile):
            kept.append({"id": candidate.id, "profile": profile.to_dict()})
        else:
            dropped.append({"id": candidate.id})
    async with unit_of_work(deps.sessions) as session:
        await candidate_repo.advance_many(session, from_stage="discovered", to_stage="enriched", rows=kept)
        await candidate_repo.advance_many(session, from_stage="discovered", to_stage="filtered", rows=dropped)
        await task_repo.refresh_counters(session, task.id)
    return True


async def _discover_round(deps: PipelineDeps, task: DiscoveryTask, plan: Plan, excluded: frozenset[str]) -> bool:
    """One page from every source that is not yet dry; False when no source can yield anything more."""
    async with deps.sessions() as session:
        cursors = await candidate_repo.get_cursors(session, task.id)
        seen = await candidate_repo.count_candidates(session, task.id)
    open_sources = [
        name for name in task.data_sources if not (cursors.get(name) and cursors[name].is_exhausted)
    ]
    budget_left = deps.settings.max_candidates_per_task - seen
    if not open_sources or budget_left <= 0:
        if not task.is_exhausted:
            async with unit_of_work(deps.sessions) as session:
                await task_repo.update_task(session, task.id, is_exhausted=True)
        return False
    request = SearchRequest(query=task.query, terms=plan.all_search_terms, constraints=plan.constraints)
    for name in open_sources:
        source = deps.sources.get(name)
        if source is None:
            raise FirmscoutError(f"data source {name!r} is not configured on this worker")
        cursor = cursors[name].cursor if name in cursors else None
        page = await source.search(request, cursor, min(deps.settings.discover_page_size, budget_left))
        rows = discover.candidate_rows(page.hits, excluded)
        async with unit_of_work(deps.sessions) as session:
            await candidate_repo.insert_new(session, task.id, rows)
            await candidate_repo.save_cursor(
                session, task.id, name, cursor=page.next_cursor, is_exhausted=page.next_cursor is None
            )
            await task_repo.refresh_counters(session, task.id)
    return True
