"""Run one discovery task to completion, checkpointing every step in the database.

Each step reads what it needs, does its work outside any transaction, then persists its output in one
transaction that also adds the rows it moved to the task's counters. A step re-run after a crash finds
its inputs already advanced (conditional updates, unique keys) and changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from firmscout.config import PipelineSettings
from firmscout.domains import registered_domain
from firmscout.entities import CompanyProfile, Plan, SearchRequest, TokenUsage
from firmscout.errors import FirmscoutError, LLMError, SourceError
from firmscout.names import same_company_name
from firmscout.pipeline.budget import Budget
from firmscout.pipeline.local import parse_query
from firmscout.pipeline.local.relationship import with_reference
from firmscout.pipeline.stages import discover, enrich, evaluate
from firmscout.pipeline.stages.plan import Planner, make_plan, refine_plan
from firmscout.sources.base import Source
from firmscout.storage.db import is_transient, read_only, unit_of_work
from firmscout.storage.removals import DUPLICATE
from firmscout.storage.repositories import candidates as candidate_repo
from firmscout.storage.repositories import tasks as task_repo
from firmscout.storage.repositories.tasks import Progress
from firmscout.storage.tables import Candidate, DiscoveryTask
from firmscout.telemetry import STAGE_DURATION
from firmscout.web.site import WebsiteProfile

log = logging.getLogger(__name__)
T = TypeVar("T")
# Companies per grader call within a step: one full round of an LLM grader's parallel requests by default.
GRADE_CHUNK = 20
# Websites read at once within a step; the fetcher's own bounds (per host, per process) still apply. A polite
# read mostly waits out its host's delay, so this is well above the fetcher's fetches in flight.
WEBSITES_AT_ONCE = 32


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
    # Reads a company's website (FIRMSCOUT_WEB__ENRICH); None: profiles come from the sources alone.
    website: Callable[[str], Awaitable[WebsiteProfile]] | None = None
    # Pages one task may fetch (cache hits are free), and the most one company may take.
    pages_per_task: int = 400
    pages_per_candidate: int = 4
    # Search provider requests one task may make, unless the task carries its own budget.
    searches_per_task: int = 30
    # LLM tokens one task may spend, unless it carries its own budget; None: no LLM, nothing to cap.
    tokens_per_task: int | None = None


async def run_task(deps: PipelineDeps, task_id: str, last_attempt: bool = False) -> None:
    """Queue handler: advance the task until it is done or failed.

    Transient failures (the database connection dropped, a source said "try later") propagate, so the
    queue retries the task from its checkpoints; on the last attempt they fail it instead. Any other
    error fails the task at once with a readable `error`.
    """
    try:
        await _run(deps, task_id, last_attempt)
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


async def _start(deps: PipelineDeps, task_id: str) -> tuple[DiscoveryTask, Plan, Progress] | None:
    """Mark the task in_progress and read it in one statement; None when it is already settled.

    With an LLM planner the task is read first and its plan refined before that statement, outside any
    transaction, so a transient planning failure leaves the task as it was for the next attempt."""
    refined: tuple[Plan, TokenUsage] | None = None
    if deps.planner is not None or deps.website is not None:
        async with read_only(deps.sessions) as session:
            before = await task_repo.get_task(session, task_id)
        if before is not None and before.status in task_repo.ACTIVE_STATUSES:
            _check_attempts(deps, before)
            plan = Plan.from_dict(before.plan) if before.plan else make_plan(before.query, before.criteria)
            # Refined once, before anything is discovered: the stored "llm:…" plan is the checkpoint, so a
            # re-run never asks again, and candidates are never graded against two different sets of criteria.
            if before.num_results_discovered == 0:
                referenced = await _reference_from_website(deps, before.query, plan)
                tokens_out = _budget(deps, before).tokens_out(task_repo.progress_of(before))
                if deps.planner is not None and plan.planned_by == "local" and not tokens_out:
                    refined = await _refine(deps.planner, before.query, referenced or plan)
                elif referenced is not None:
                    refined = referenced, TokenUsage()
    async with unit_of_work(deps.sessions) as session:
        task = await task_repo.start_task(session, task_id)
        if task is None:
            if await task_repo.get_task(session, task_id) is None:
                raise TaskGone(f"discovery task {task_id} does not exist")
            return None  # done, failed or cancelled meanwhile: nothing to do
        _check_attempts(deps, task)  # raised inside: the in_progress mark rolls back
        if refined is not None:
            plan, usage = refined
        else:
            plan = Plan.from_dict(task.plan) if task.plan else make_plan(task.query, task.criteria)
            usage = TokenUsage()
        if refined is not None or not task.plan:  # a task from an older version gets its plan here, once
            await task_repo.update_task(
                session, task.id, plan=plan.to_dict(), criteria=[c.to_dict() for c in plan.criteria]
            )
        if usage.prompt_tokens or usage.completion_tokens:
            await task_repo.add_usage(session, task.id, usage.prompt_tokens, usage.completion_tokens)
    progress = task_repo.progress_of(task)
    planning = usage.prompt_tokens + usage.completion_tokens
    # The row was read before the plan's tokens were added: they count against the token budget too.
    return task, plan, replace(progress, total_tokens=progress.total_tokens + planning)


async def _reference_from_website(deps: PipelineDeps, query: str, plan: Plan) -> Plan | None:
    """A relationship query's reference that the company database lacks, profiled from its website when the
    query names it by domain ("companies similar to notion.so") and web reading is on; None otherwise."""
    named = parse_query(query).reference
    domain = registered_domain(named) if named and "." in named else None
    if plan.reference is not None or deps.website is None or domain is None:
        return None
    site = await deps.website(domain)
    if site.error is not None:
        log.info("reference %s could not be read: %s", domain, site.error)
        return None
    profile = enrich.with_website(CompanyProfile(domain=domain, name=domain, website=domain), site)
    return with_reference(plan, profile)


def _check_attempts(deps: PipelineDeps, task: DiscoveryTask) -> None:
    if task.attempts > deps.max_attempts:
        raise FirmscoutError(f"gave up after {task.attempts - 1} interrupted attempts; resume to retry")


async def _refine(planner: Planner, query: str, plan: Plan) -> tuple[Plan, TokenUsage]:
    """Fails like grading does: a transient provider error goes back to the queue, any other fails the task."""
    try:
        draft = await planner.draft(query, None if plan.criteria_inferred else plan.criteria)
    except LLMError as exc:
        raise LLMError(f"planning the query with the LLM failed: {exc.message}", transient=exc.transient) from exc
    return refine_plan(plan, draft), draft.usage


async def _run(deps: PipelineDeps, task_id: str, last_attempt: bool = False) -> None:
    started = await _start(deps, task_id)
    if started is None:
        return
    task, plan, progress = started
    excluded = frozenset(task.exclude_domains)
    budget = _budget(deps, task)
    held: set[str] = set()  # sources with nothing more while the search budget is spent: not dry, resumable
    while True:
        # `progress` is what the previous step's own transaction returned: no reload between steps.
        if progress is None:
            raise TaskGone(f"discovery task {task_id} does not exist")
        if progress.status != "in_progress":
            return
        if progress.num_results >= progress.desired_num_results:
            await _finish(deps, task.id, progress, "target_reached")
            return
        if budget.tokens_out(progress):
            # Nothing more can be graded, so discovering more would be wasted: what was graded stays.
            await _finish(deps, task.id, progress, "budget_exhausted")
            return
        async with read_only(deps.sessions) as session:
            batch = await candidate_repo.next_batch(session, task.id, deps.settings.batch_size)
        if batch:
            progress = await _timed("evaluate", _advance_batch(deps, task.id, plan, progress, batch, budget))
            continue
        stepped = await _timed(
            "discover", _discover_round(deps, task, plan, progress, excluded, budget, held, last_attempt))
        if stepped is not None:
            progress = stepped
            continue
        # Nothing left anywhere: every source ran dry (or is held) and every candidate went through the funnel.
        reason, error = await _ending(deps, task.id, progress, budget, held)
        await _finish(deps, task.id, progress, reason, error)
        return


async def _timed(stage: str, step: Awaitable[T]) -> T:
    """Run one step; record its duration only when it did work (an empty check is not a stage run)."""
    started = time.perf_counter()
    outcome = await step
    if outcome is not None:
        STAGE_DURATION.labels(stage).observe(time.perf_counter() - started)
    return outcome


def _budget(deps: PipelineDeps, task: DiscoveryTask) -> Budget:
    defaults = Budget(deps.searches_per_task, deps.pages_per_task, deps.tokens_per_task)
    return Budget.resolve(searches=task.search_budget, pages=task.page_budget, tokens=task.token_budget,
                          defaults=defaults)


async def _ending(
    deps: PipelineDeps, task_id: str, progress: Progress, budget: Budget, held: set[str]
) -> tuple[str, str | None]:
    """Why a task with nothing left to do stopped short of its target, and the error to show: a failed
    source, a spent budget (searches: a source was held; pages: not enough left for one more website), or
    sources that ran dry."""
    async with read_only(deps.sessions) as session:
        cursors = await candidate_repo.get_cursors(session, task_id)
    failed = [c.error for c in cursors.values() if c.error]
    if failed:
        # What the other sources and earlier pages found stays; the task says which source failed and why.
        return "source_failed", "; ".join(sorted(failed))
    if held or (deps.website is not None and budget.pages_left(progress) < deps.pages_per_candidate):
        return "budget_exhausted", None
    return "exhausted", None


async def _finish(
    deps: PipelineDeps, task_id: str, progress: Progress, reason: str, error: str | None = None
) -> None:
    async with unit_of_work(deps.sessions) as session:
        done = await task_repo.finish_task(
            session,
            task_id,
            seen_target=progress.desired_num_results,
            stop_reason=reason,
            # A failed source may answer later: a task that stopped for it can be resumed.
            is_exhausted=reason == "exhausted" or progress.is_exhausted,
            error=error,
        )
    if not done:
        log.info("task %s: target changed while finishing; continuing", task_id)
        await _run(deps, task_id)


def _stepped(progress: Progress | None, task_id: str) -> Progress:
    if progress is None:
        raise TaskGone(f"discovery task {task_id} does not exist")
    return progress


async def _advance_batch(
    deps: PipelineDeps, task_id: str, plan: Plan, progress: Progress, batch: Sequence[Candidate], budget: Budget
) -> Progress:
    """Pre-filter and enrich a batch of `discovered` candidates and grade the ones kept, or grade a batch
    of `enriched` ones (left over when the target was reached); one transaction checkpoints it all.

    One step, not two: grading always follows on the rows just enriched, so each row is written once."""
    stage = batch[0].stage
    dropped: list[tuple[str, tuple[str, ...]]] = []  # (candidate id, the criteria that ruled it out)
    kept: list[tuple[Candidate, CompanyProfile]] = []
    started = time.perf_counter()
    for candidate in batch:
        if stage == "enriched":
            kept.append((candidate, CompanyProfile.from_dict(candidate.profile or {})))
            continue
        profile = enrich.profile_from_hit(candidate.domain, candidate.hit, candidate.profile)
        ruled_out = enrich.ruled_out_by(plan, profile)
        if ruled_out:
            dropped.append((candidate.id, ruled_out))
        else:
            kept.append((candidate, profile))
        await asyncio.sleep(0)  # as in LocalGrader.grade: don't stall another task's open write transaction
    pages = fetched_bytes = 0
    duplicates: list[tuple[Candidate, CompanyProfile]] = []
    if stage == "discovered" and deps.website is not None and kept:
        kept, pages, fetched_bytes, moved = await _read_websites(deps, kept, budget.pages_left(progress))
        if moved:
            kept, duplicates = await _drop_moved(deps, task_id, kept, moved)
    if stage == "discovered" and kept:
        kept, named_twice = await _drop_same_names(deps, task_id, kept)
        duplicates += named_twice
    if stage == "discovered":
        STAGE_DURATION.labels("enrich").observe(time.perf_counter() - started)
    usage = TokenUsage()
    graded: list[tuple[Candidate, CompanyProfile, evaluate.Evaluation]] = []
    room = progress.desired_num_results - progress.num_results
    # Graded a chunk at a time, stopping once the target is met or the tokens are spent, so a large step never
    # pays an LLM for companies past the target or the budget; the rest stay enriched, evaluated first on resume.
    for start in range(0, len(kept), GRADE_CHUNK):
        if room <= 0 or budget.tokens_out(progress, usage.prompt_tokens + usage.completion_tokens):
            break
        part = kept[start : start + GRADE_CHUNK]
        outcome = await deps.grader.grade(plan.criteria, [profile for _, profile in part], plan)
        usage += outcome.usage
        for (candidate, profile), scores in zip(part, outcome.grades, strict=True):
            if room <= 0:
                break
            result = evaluate.qualify(scores, profile)
            graded.append((candidate, profile, result))
            room -= result.is_high_fit
    now = datetime.now(UTC)
    # The profile is written only where the source gave none (it was made here from the hit). A candidate
    # that does not become a result keeps what removed it, which the task's tally sums.
    rows: list[dict[str, object]] = [
        {"id": candidate.id, "stage": "evaluated", **_new_profile(candidate, profile),
         "scores": {key: grade.to_dict() for key, grade in result.scores.items()},
         "relevance": result.relevance, "is_high_fit": result.is_high_fit, "evidence": result.evidence,
         "prominence": result.prominence, "evaluated_at": now,
         **({} if result.is_high_fit else {"removed_by": list(result.failed)})}
        for candidate, profile, result in graded
    ]
    if stage == "discovered":
        rows += [{"id": c.id, "stage": "enriched", **_new_profile(c, p)} for c, p in kept[len(graded):]]
        rows += [{"id": candidate_id, "stage": "filtered", "removed_by": list(keys)} for candidate_id, keys in dropped]
        rows += [{"id": c.id, "stage": "filtered", "profile": p.to_dict(), "removed_by": [DUPLICATE]}
                 for c, p in duplicates]
    async with unit_of_work(deps.sessions) as session:
        moves = await candidate_repo.settle(session, from_stage=stage, rows=rows)
        if usage.prompt_tokens or usage.completion_tokens:
            await task_repo.add_usage(session, task_id, usage.prompt_tokens, usage.completion_tokens)
        if moves is None:  # a replay after a crash found rows already moved: count from the rows
            if pages or fetched_bytes:
                await task_repo.count_progress(session, task_id, pages=pages, web_bytes=fetched_bytes)
            await task_repo.recount_removals(session, task_id)
            return _stepped(await task_repo.refresh_counters(session, task_id), task_id)
        await task_repo.add_removals(session, task_id, moves.removals)
        return _stepped(await task_repo.count_progress(
            session, task_id,
            # An enriched candidate stays counted as enriched once evaluated.
            enriched=moves.enriched + moves.evaluated if stage == "discovered" else 0,
            evaluated=moves.evaluated,
            results=moves.results,
            pages=pages, web_bytes=fetched_bytes,
        ), task_id)


def _new_profile(candidate: Candidate, profile: CompanyProfile) -> dict[str, object]:
    # Written where the source gave none, or where the website added to it.
    return {} if candidate.profile and profile.web_status is None else {"profile": profile.to_dict()}


async def _read_websites(
    deps: PipelineDeps, kept: list[tuple[Candidate, CompanyProfile]], pages_left: int
) -> tuple[list[tuple[Candidate, CompanyProfile]], int, int, dict[str, str]]:
    """Each kept candidate's profile with its website's evidence, within the task's page budget; a site that
    cannot be read leaves its reason on the profile and never fails the task. Also returns pages and bytes
    fetched, and the candidates whose site now lives on another domain (id → that domain)."""
    assert deps.website is not None
    read_site = deps.website
    slots = asyncio.Semaphore(WEBSITES_AT_ONCE)
    room = pages_left

    async def one(candidate: Candidate, profile: CompanyProfile) -> tuple[CompanyProfile, int, int, str | None]:
        nonlocal room
        if room < deps.pages_per_candidate:
            return replace(profile, web_status="budget"), 0, 0, None
        room -= deps.pages_per_candidate  # reserved up front, so concurrent reads never overdraw the budget
        async with slots:
            site = await read_site(candidate.domain)
        room += deps.pages_per_candidate - site.fetched
        return enrich.with_website(profile, site), site.fetched, site.bytes, site.moved_to

    done = await asyncio.gather(*(one(candidate, profile) for candidate, profile in kept))
    enriched = [(candidate, result[0]) for (candidate, _), result in zip(kept, done, strict=True)]
    moved = {candidate.id: result[3] for (candidate, _), result in zip(kept, done, strict=True) if result[3]}
    return enriched, sum(result[1] for result in done), sum(result[2] for result in done), moved


async def _drop_moved(
    deps: PipelineDeps, task_id: str, kept: list[tuple[Candidate, CompanyProfile]], moved: dict[str, str]
) -> tuple[list[tuple[Candidate, CompanyProfile]], list[tuple[Candidate, CompanyProfile]]]:
    """Candidates whose website redirects to a company already a candidate of the task (a rebrand, or one
    company's several domains) are duplicates: the company is kept under its final domain only."""
    async with read_only(deps.sessions) as session:
        claimed = await candidate_repo.present_domains(session, task_id, set(moved.values()))
    claimed |= {candidate.domain for candidate, _ in kept if candidate.id not in moved}
    keep: list[tuple[Candidate, CompanyProfile]] = []
    duplicates: list[tuple[Candidate, CompanyProfile]] = []
    for candidate, profile in kept:
        final = moved.get(candidate.id)
        if final is None:
            keep.append((candidate, profile))
        elif final in claimed:
            duplicates.append((candidate, replace(profile, web_status=f"duplicate of {final}")))
        else:
            claimed.add(final)  # the first candidate that moved there stands for the company
            keep.append((candidate, profile))
    return keep, duplicates


async def _drop_same_names(
    deps: PipelineDeps, task_id: str, kept: list[tuple[Candidate, CompanyProfile]]
) -> tuple[list[tuple[Candidate, CompanyProfile]], list[tuple[Candidate, CompanyProfile]]]:
    """Candidates that are a result of the task already, or a batch mate, under another domain: the same
    name (legal form and spelling aside) in the same country, or where either country is unknown."""
    async with read_only(deps.sessions) as session:
        seen = await candidate_repo.result_names(session, task_id)
    keep: list[tuple[Candidate, CompanyProfile]] = []
    duplicates: list[tuple[Candidate, CompanyProfile]] = []
    for candidate, profile in kept:
        twin = next((domain for domain, name, country in seen
                     if domain != candidate.domain and same_company_name(name, profile.name)
                     and (country is None or profile.country is None or country == profile.country)), None)
        if twin is not None:
            duplicates.append((candidate, replace(profile, web_status=f"duplicate of {twin}")))
        else:
            keep.append((candidate, profile))
            seen.append((candidate.domain, profile.name, profile.country))
    return keep, duplicates


async def _discover_round(
    deps: PipelineDeps, task: DiscoveryTask, plan: Plan, progress: Progress, excluded: frozenset[str],
    budget: Budget, held: set[str], last_attempt: bool = False,
) -> Progress | None:
    """One page from every source that is not yet dry or held; None when no source can yield anything more.

    A source that fails for good (or for the last time the queue tries the task) stops for this task with
    its error on its cursor; the others go on. A source with nothing more while the task's search budget is
    spent is held for this run, its cursor kept: a resume grants the budget again and it goes on from there.

    The candidates seen so far are the `num_results_discovered` counter, which every step's transaction
    keeps equal to the rows, so no count query is needed here."""
    async with read_only(deps.sessions) as session:
        cursors = await candidate_repo.get_cursors(session, task.id)
    open_sources = [
        name for name in task.data_sources
        if name not in held and not (cursors.get(name) and cursors[name].is_exhausted)
    ]
    budget_left = deps.settings.max_candidates_per_task - progress.num_results_discovered
    if not open_sources or budget_left <= 0:
        return None  # the caller finishes the task (exhausted, which sets is_exhausted, unless a source is held)
    planned = SearchRequest(
        query=task.query, terms=plan.all_search_terms, constraints=plan.constraints, reference=plan.reference,
        searches=plan.web_searches or (task.query,),
    )
    for name in open_sources:
        source = deps.sources.get(name)
        if source is None:
            raise FirmscoutError(f"data source {name!r} is not configured on this worker")
        cursor = cursors[name].cursor if name in cursors else None
        # What is left after the sources asked before it in this round.
        request = replace(planned, searches_left=budget.searches_left(progress), pages_left=budget.pages_left(progress))
        try:
            page = await source.search(request, cursor, min(deps.settings.discover_page_size, budget_left))
        except SourceError as exc:
            if exc.transient and not last_attempt:
                raise
            log.warning("task %s: source %s failed: %s", task.id, name, exc.message)
            async with unit_of_work(deps.sessions) as session:
                await candidate_repo.save_cursor(session, task.id, name, cursor=cursor, is_exhausted=True,
                                                 error=f"{name}: {exc.message}")
            continue
        if request.searches_left == 0 and not page.hits and page.next_cursor is None:
            held.add(name)  # not dry: stopped by the spent budget (it asked nothing), its cursor kept for a resume
            continue
        rows = discover.candidate_rows(page.hits, excluded)
        async with unit_of_work(deps.sessions) as session:
            new = await candidate_repo.insert_new(session, task.id, rows)
            if page.usage.prompt_tokens or page.usage.completion_tokens:
                await task_repo.add_usage(session, task.id, page.usage.prompt_tokens, page.usage.completion_tokens)
            if page.notes:
                await task_repo.add_warnings(session, task.id, page.notes)
            after = page.skip_cursor if page.skip_cursor is not None and not new else page.next_cursor
            await candidate_repo.save_cursor(session, task.id, name, cursor=after, is_exhausted=after is None)
            progress = _stepped(await task_repo.count_progress(
                session, task.id, discovered=new, searches=page.search_requests, pages=page.pages_fetched,
                web_bytes=page.bytes_fetched), task.id)
    return progress
