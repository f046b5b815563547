"""Use cases on a discovery task. Each opens its own unit of work; a create commits the row and its job
together, so a `200` never leaves before both exist and a rejected request writes nothing."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from firmscout import lookalike
from firmscout.domains import registered_domain
from firmscout.entities import Constraints, Criterion, Plan
from firmscout.errors import BadRequest, Forbidden, InvalidField, NotFound, RateLimited
from firmscout.pipeline.local import parse_query
from firmscout.pipeline.local.relationship import with_reference
from firmscout.pipeline.stages.plan import make_plan
from firmscout.queue.base import JobQueue
from firmscout.storage.db import read_only, unit_of_work
from firmscout.storage.repositories import candidates as candidate_repo
from firmscout.storage.repositories import ratelimits as ratelimit_repo
from firmscout.storage.repositories import tasks as task_repo
from firmscout.storage.tables import DiscoveryTask
from firmscout.storage.views import TaskReader, TaskResults, TaskView, view_of_task
from firmscout.tasks.accounts import Caller

MAX_TARGET = 250
MAX_EXCLUDED_DOMAINS = 1000
DATA_SOURCE_ALIASES = {"company_db": "extruct_db"}
# What to set for a source this server lacks.
_SOURCE_SETTINGS = {
    "web_search": "set FIRMSCOUT_WEB__SEARCH_PROVIDER (searxng with FIRMSCOUT_WEB__SEARCH_URL, or a provider with "
                  "FIRMSCOUT_WEB__SEARCH_API_KEY)",
    "linkedin": "set FIRMSCOUT_WEB__SEARCH_PROVIDER (it finds LinkedIn company pages through web search)",
    "maps": "set FIRMSCOUT_WEB__PLACES_PROVIDER (google with FIRMSCOUT_WEB__PLACES_API_KEY, or serper with "
            "FIRMSCOUT_WEB__SEARCH_PROVIDER=serper and its FIRMSCOUT_WEB__SEARCH_API_KEY)",
}


@dataclass(frozen=True)
class NewTask:
    query: str
    desired_num_results: int = 100
    auto_data_sources: bool = True
    data_sources: Sequence[str] = ()
    criteria: Sequence[Criterion] | None = None
    exclude_domains: Sequence[str] = ()
    exclude_task_ids: Sequence[str] = ()
    table_id: str | None = None
    search_budget: int | None = None  # None: FIRMSCOUT_WEB__SEARCHES_PER_TASK
    page_budget: int | None = None  # None: FIRMSCOUT_WEB__PAGES_PER_TASK
    token_budget: int | None = None  # None: FIRMSCOUT_LLM__TOKENS_PER_TASK
    webhook_url: str | None = None  # called on task.completed / task.failed (tasks/webhooks.py)
    webhook_secret: str | None = None


@dataclass(frozen=True)
class CreateQuota:
    """How many tasks a user may create: a token bucket of `burst`, refilled at `per_minute`.

    The bucket is a database row (storage/repositories/ratelimits.py), so the budget is one per user however
    many API processes or machines serve it. `clock` is wall time: buckets are shared across machines.
    """

    per_minute: float
    burst: int
    clock: Callable[[], float] = time.time


async def _spend(session: AsyncSession, quota: CreateQuota, caller: Caller) -> None:
    wait_s = await ratelimit_repo.take(
        session, f"create:{caller.user_id}", now=quota.clock(), per_second=quota.per_minute / 60.0, burst=quota.burst
    )
    if wait_s > 0:
        raise RateLimited(wait_s)


class TaskService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        queue: JobQueue,
        available_sources: Sequence[str],
        reader: TaskReader,
    ) -> None:
        self._sessions = sessions
        self._reader = reader
        self._queue = queue
        self._available = tuple(available_sources)

    def _pick_sources(self, new: NewTask) -> list[str]:
        if new.auto_data_sources:
            # The company database, and web search once a provider is set; linkedin and maps when asked for.
            return [name for name in self._available if name not in ("linkedin", "maps")]
        if not new.data_sources:
            raise InvalidField(
                ("body", "data_sources"),
                "data_sources must list at least one source when auto_data_sources is false",
            )
        picked: list[str] = []
        for i, raw in enumerate(new.data_sources):
            name = DATA_SOURCE_ALIASES.get(raw, raw)
            if name not in self._available:
                fix = f"; to use it, {_SOURCE_SETTINGS[name]}" if name in _SOURCE_SETTINGS else ""
                raise InvalidField(
                    ("body", "data_sources", i),
                    f"data source {raw!r} is not configured on this server{fix} "
                    f"(available: {', '.join(self._available)}); choose one of those or set "
                    "auto_data_sources=true",
                )
            if name not in picked:
                picked.append(name)
        return picked

    async def _resolve_exclusions(self, session: AsyncSession, caller: Caller, new: NewTask) -> list[str]:
        domains: set[str] = set()
        for i, raw in enumerate(new.exclude_domains):
            domain = registered_domain(raw)
            if domain is None:
                raise InvalidField(
                    ("body", "exclude_domains", i),
                    f"{raw!r} is not a domain or URL with a public suffix (e.g. acme.com)",
                )
            domains.add(domain)
        ids = list(dict.fromkeys(new.exclude_task_ids))
        if ids:
            found = {t.id: t for t in await task_repo.get_tasks(session, ids)}
            for task_id in ids:
                ref = found.get(task_id)
                if ref is None:
                    raise NotFound(f"exclude_task_ids: task {task_id} does not exist")
                if not _same_workspace(ref, caller):
                    raise Forbidden(f"exclude_task_ids: task {task_id} belongs to another organization")
                if ref.status != "done":
                    raise BadRequest(
                        f"exclude_task_ids: task {task_id} is {ref.status!r}; only tasks with status 'done' "
                        "can be excluded"
                    )
            domains |= await task_repo.visible_domains(session, ids)
        if len(domains) > MAX_EXCLUDED_DOMAINS:
            raise InvalidField(
                ("body", "exclude_domains"),
                f"The resolved exclusion set has {len(domains)} domains, over the {MAX_EXCLUDED_DOMAINS}-domain "
                "cap. Reduce exclude_domains or exclude_task_ids.",
            )
        return sorted(domains)

    async def create(self, caller: Caller, new: NewTask, quota: CreateQuota | None = None) -> TaskView:
        """A new task, queued in the same transaction. With a `quota` (the API's), the caller spends from it."""
        sources = self._pick_sources(new)
        # The plan is pure and fast, so the create response already shows the criteria that will be graded
        # (inferred or the caller's), as the spec asks; the worker reuses the stored plan.
        plan = make_plan(new.query, [c.to_dict() for c in new.criteria or ()])
        if (named := parse_query(new.query).reference) is not None:
            # "competitors of Stripe": found here, so the create response already says whom it compares with.
            found = await lookalike.find_reference(self._sessions, named)
            if found is not None:
                plan = with_reference(plan, found[1])
        if not plan.search_terms and plan.constraints == Constraints():
            raise InvalidField(
                ("body", "query"),
                f"the query {new.query[:80]!r} has nothing to search for: name an industry, a product, a kind "
                "of company or a place (e.g. \"banks in Spain\")",
            )
        async with unit_of_work(self._sessions) as session:
            excluded = await self._resolve_exclusions(session, caller, new)
            task = await task_repo.add_task(
                session,
                DiscoveryTask(
                    organization_id=caller.organization_id,
                    user_id=caller.user_id,
                    query=new.query,
                    desired_num_results=new.desired_num_results,
                    status="created",
                    is_exhausted=False,
                    auto_data_sources=new.auto_data_sources,
                    data_sources=sources,
                    criteria=[c.to_dict() for c in plan.criteria],
                    plan=plan.to_dict(),
                    exclude_domains=excluded,
                    table_id=new.table_id,
                    search_budget=new.search_budget,
                    page_budget=new.page_budget,
                    token_budget=new.token_budget,
                    webhook_url=new.webhook_url,
                    webhook_secret=new.webhook_secret,
                    num_results_discovered=0,
                    num_results_enriched=0,
                    num_results_evaluated=0,
                    num_results=0,
                    attempts=0,
                ),
            )
            await self._queue.enqueue(session, task.id, new=True)
            # Last, just before COMMIT: on PostgreSQL the bucket's row lock orders one user's concurrent
            # creates, so it is held for the commit only. Only valid requests get here; a refusal raises and
            # the transaction rolls back, task and job included.
            if quota is not None:
                await _spend(session, quota, caller)
        return view_of_task(task)

    async def get(self, caller: Caller, task_id: str) -> TaskView:
        _check_id(task_id)
        view = await self._reader.task(task_id, organization_id=caller.organization_id, user_id=caller.user_id)
        if view is None:
            raise NotFound()
        return view

    async def list(self, caller: Caller, *, offset: int, limit: int) -> list[TaskView]:
        """The caller's workspace's tasks, newest first."""
        return await self._reader.tasks(
            organization_id=caller.organization_id, user_id=caller.user_id, offset=offset, limit=limit
        )

    async def results(self, caller: Caller, task_id: str, *, offset: int, limit: int) -> TaskResults:
        """The task and one page of its results, best first, read in one snapshot."""
        _check_id(task_id)
        found = await self._reader.results(
            task_id, organization_id=caller.organization_id, user_id=caller.user_id, offset=offset, limit=limit
        )
        if found is None:
            raise NotFound()
        return found

    async def all_results(self, caller: Caller, task_id: str) -> TaskResults:
        """The task and every result, best first. A task holds at most MAX_TARGET, one page; more pages are read
        only if one ever holds more (then the task is the first page's)."""
        page = await self.results(caller, task_id, offset=0, limit=MAX_TARGET)
        rows, last = list(page.results), page.results
        while len(last) == MAX_TARGET:
            last = (await self.results(caller, task_id, offset=len(rows), limit=MAX_TARGET)).results
            rows += last
        return TaskResults(page.task, rows)

    async def plan(self, caller: Caller, task_id: str) -> Plan:
        """The plan the task grades and searches with (the LLM's refinement, once the worker made it)."""
        _check_id(task_id)
        async with read_only(self._sessions) as session:
            task = await task_repo.get_scoped_task(
                session, task_id, organization_id=caller.organization_id, user_id=caller.user_id
            )
        if task is None:
            raise NotFound()
        return Plan.from_dict(task.plan) if task.plan else make_plan(task.query, task.criteria)

    async def counts_by_status(self) -> dict[str, int]:
        """Tasks of every organization by status, for /metrics."""
        async with read_only(self._sessions) as session:
            return await task_repo.count_by_status(session)

    async def resume(self, caller: Caller, task_id: str, desired_new_results: int) -> TaskView:
        _check_id(task_id)
        async with unit_of_work(self._sessions) as session:
            task = await _locked(session, caller, task_id)
            if task.is_exhausted:
                raise BadRequest(
                    "The task is exhausted: its sources have no more candidates. Create a new task "
                    "(use exclude_task_ids to skip companies it already returned)."
                )
            # At the cap a resume can still finish what a spent budget cut short.
            if task.desired_num_results >= MAX_TARGET and task.stop_reason != "budget_exhausted":
                raise BadRequest(f"The task is already at the {MAX_TARGET}-result cap; create a new task.")
            task.desired_num_results = min(MAX_TARGET, task.desired_num_results + desired_new_results)
            if task.status != "created":
                task.status = "in_progress"
            task.stop_reason = None
            task.error = None
            task.attempts = 0
            task.webhook_status, task.webhook_attempts = None, 0  # the task will finish again: say so again
            _grant_budgets_again(task)
            # A source that failed for this task (a provider outage) is tried again from where it stopped.
            await candidate_repo.reopen_failed_sources(session, task.id)
            await session.flush()
            await self._queue.enqueue(session, task.id)
        return view_of_task(task)

    async def cancel(self, caller: Caller, task_id: str) -> TaskView:
        """Stop the task where it stands: the runner sees the status change at its next step and returns, and
        every write it still makes is conditional on a running task (or on a candidate's stage)."""
        _check_id(task_id)
        async with unit_of_work(self._sessions) as session:
            task = await _locked(session, caller, task_id)
            if task.status in ("created", "in_progress"):
                task.status = "done"
                task.stop_reason = "cancelled"
                await session.flush()
        return view_of_task(task)


async def _locked(session: AsyncSession, caller: Caller, task_id: str) -> DiscoveryTask:
    """The caller's task, locked for this transaction's change; NotFound when it is not theirs."""
    task = await task_repo.get_scoped_task(
        session, task_id, organization_id=caller.organization_id, user_id=caller.user_id, for_update=True
    )
    if task is None:
        raise NotFound()
    return task


def _grant_budgets_again(task: DiscoveryTask) -> None:
    """Count the task's budgets from its counters as they stand, so a resume (after `budget_exhausted` or any
    other stop) may spend as much again; `usage` keeps counting everything."""
    task.search_requests_at_resume = task.search_requests
    task.pages_fetched_at_resume = task.pages_fetched
    task.tokens_at_resume = task.prompt_tokens + task.completion_tokens


def _check_id(task_id: str) -> None:
    """Task ids are UUIDs as we write them; anything else names no task (and never reaches the database)."""
    try:
        valid = str(uuid.UUID(task_id)) == task_id
    except ValueError:
        valid = False
    if not valid:
        raise NotFound()


def _same_workspace(task: DiscoveryTask, caller: Caller) -> bool:
    if task.user_id == caller.user_id:
        return True
    return caller.organization_id is not None and task.organization_id == caller.organization_id
