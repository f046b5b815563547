"""Discovery task rows: tenancy-scoped reads, counters derived from candidates, and lease-based claiming."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, bindparam, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from firmscout.storage.removals import VERDICT_STAGES, Removals, tally
from firmscout.storage.tables import Candidate, DiscoveryTask

ACTIVE_STATUSES = ("created", "in_progress")


def _scope(organization_id: str | None, user_id: str) -> ColumnElement[bool]:
    # Users without an organization see only their own tasks; members see their organization's.
    if organization_id is None:
        return DiscoveryTask.user_id == user_id
    return DiscoveryTask.organization_id == organization_id


async def add_task(session: AsyncSession, task: DiscoveryTask) -> DiscoveryTask:
    """Insert a new task; it is returned as given (with its defaults filled in), not attached to the session.

    A plain INSERT rather than `session.add` + flush: nothing reads the task back through the session, so
    the unit of work's bookkeeping would be wasted.
    """
    for column in DiscoveryTask.__table__.columns:
        default = column.default
        if getattr(task, column.key) is None and default is not None:
            # What the flush would have filled in: a callable default (id, timestamps, lists) or a constant.
            value = default.arg(None) if default.is_callable else default.arg
            setattr(task, column.key, value)
    row = {column.key: getattr(task, column.key) for column in DiscoveryTask.__table__.columns}
    await session.execute(_INSERT_TASK, row)
    return task


_INSERT_TASK = insert(DiscoveryTask)


async def get_task(session: AsyncSession, task_id: str, *, for_update: bool = False) -> DiscoveryTask | None:
    stmt = select(DiscoveryTask).where(DiscoveryTask.id == task_id)
    if for_update:
        stmt = stmt.with_for_update()  # no-op on SQLite, where BEGIN IMMEDIATE already serialises writers
    return await session.scalar(stmt)


async def get_scoped_task(
    session: AsyncSession, task_id: str, *, organization_id: str | None, user_id: str, for_update: bool = False
) -> DiscoveryTask | None:
    stmt = select(DiscoveryTask).where(DiscoveryTask.id == task_id, _scope(organization_id, user_id))
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def get_tasks(session: AsyncSession, task_ids: Sequence[str]) -> list[DiscoveryTask]:
    return list((await session.scalars(select(DiscoveryTask).where(DiscoveryTask.id.in_(task_ids)))).all())


async def visible_domains(session: AsyncSession, task_ids: Sequence[str]) -> set[str]:
    stmt = select(Candidate.domain).where(Candidate.task_id.in_(task_ids), Candidate.is_high_fit.is_(True))
    return set((await session.scalars(stmt)).all())


async def update_task(session: AsyncSession, task_id: str, **values: Any) -> None:
    await session.execute(update(DiscoveryTask).where(DiscoveryTask.id == task_id).values(**values))


async def finish_task(
    session: AsyncSession, task_id: str, *, seen_target: int, stop_reason: str, is_exhausted: bool,
    error: str | None = None,
) -> bool:
    """Mark done unless a resume raised the target meanwhile; returns whether the task was finished."""
    result = await session.execute(
        update(DiscoveryTask)
        .where(
            DiscoveryTask.id == task_id,
            DiscoveryTask.status == "in_progress",
            DiscoveryTask.desired_num_results == seen_target,
        )
        .values(status="done", stop_reason=stop_reason, is_exhausted=is_exhausted, attempts=0, error=error)
        .returning(DiscoveryTask.id)
    )
    return result.first() is not None


async def add_usage(session: AsyncSession, task_id: str, prompt_tokens: int, completion_tokens: int) -> None:
    """Add tokens spent, atomically: concurrent steps of one task never lose an increment."""
    await session.execute(
        update(DiscoveryTask)
        .where(DiscoveryTask.id == task_id)
        .values(
            prompt_tokens=DiscoveryTask.prompt_tokens + prompt_tokens,
            completion_tokens=DiscoveryTask.completion_tokens + completion_tokens,
        )
    )


@dataclass(frozen=True)
class Progress:
    """What the runner needs to decide its next step, as of the transaction that returned it."""

    status: str
    desired_num_results: int
    num_results: int
    num_results_discovered: int
    is_exhausted: bool
    pages_fetched: int = 0
    search_requests: int = 0
    total_tokens: int = 0
    # The counters at the latest resume, which the task's budgets count from.
    search_requests_at_resume: int = 0
    pages_fetched_at_resume: int = 0
    tokens_at_resume: int = 0

    @property
    def searches_spent(self) -> int:
        return self.search_requests - self.search_requests_at_resume

    @property
    def pages_spent(self) -> int:
        return self.pages_fetched - self.pages_fetched_at_resume

    @property
    def tokens_spent(self) -> int:
        return self.total_tokens - self.tokens_at_resume


_PROGRESS_COLUMNS = (
    DiscoveryTask.status,
    DiscoveryTask.desired_num_results,
    DiscoveryTask.num_results,
    DiscoveryTask.num_results_discovered,
    DiscoveryTask.is_exhausted,
    DiscoveryTask.pages_fetched,
    DiscoveryTask.search_requests,
    (DiscoveryTask.prompt_tokens + DiscoveryTask.completion_tokens).label("total_tokens"),
    DiscoveryTask.search_requests_at_resume,
    DiscoveryTask.pages_fetched_at_resume,
    DiscoveryTask.tokens_at_resume,
)


def progress_of(task: DiscoveryTask) -> Progress:
    return Progress(task.status, task.desired_num_results, task.num_results, task.num_results_discovered,
                    task.is_exhausted, task.pages_fetched, task.search_requests,
                    task.prompt_tokens + task.completion_tokens, task.search_requests_at_resume,
                    task.pages_fetched_at_resume, task.tokens_at_resume)


async def start_task(session: AsyncSession, task_id: str) -> DiscoveryTask | None:
    """Mark an active task in_progress and return it, in one round trip; None if it is gone or settled."""
    result = await session.execute(
        update(DiscoveryTask)
        .where(DiscoveryTask.id == task_id, DiscoveryTask.status.in_(ACTIVE_STATUSES))
        .values(status="in_progress")
        .returning(DiscoveryTask)
        .execution_options(synchronize_session=False)
    )
    return result.scalar_one_or_none()


def _refresh_counters_statement() -> Any:
    c = Candidate
    mine = c.task_id == DiscoveryTask.id

    def count(*conds: ColumnElement[bool]) -> Any:
        return select(func.count()).select_from(c).where(mine, *conds).scalar_subquery()

    return (
        update(DiscoveryTask)
        .where(DiscoveryTask.id == bindparam("task_id"))
        .values(
            num_results_discovered=count(),
            num_results_enriched=count(c.stage.in_(("enriched", "evaluated"))),
            num_results_evaluated=count(c.stage == "evaluated"),
            num_results=count(c.stage == "evaluated", c.is_high_fit.is_(True)),
        )
        .returning(*_PROGRESS_COLUMNS)
        .execution_options(synchronize_session=False)
    )


# Built once: SQLAlchemy caches compiled SQL, not the expression objects, which cost more to build than to run.
_REFRESH_COUNTERS = _refresh_counters_statement()


async def refresh_counters(session: AsyncSession, task_id: str) -> Progress | None:
    """Recompute the funnel counters from candidate rows, in the caller's transaction, and return the
    task's progress as that transaction sees it (None when the task is gone).

    Returning it here spares the runner a separate reload of the task before each step: the state it
    decides on is the one its own last write committed, which a concurrent resume can change only by
    also committing (and `finish_task` re-checks the target it saw)."""
    row = (await session.execute(_REFRESH_COUNTERS, {"task_id": task_id})).first()
    return None if row is None else Progress(*row)


def _count_progress_statement() -> Any:
    t = DiscoveryTask
    return (
        update(t)
        .where(t.id == bindparam("task_id"))
        .values(
            num_results_discovered=t.num_results_discovered + bindparam("discovered", type_=Integer),
            num_results_enriched=t.num_results_enriched + bindparam("enriched", type_=Integer),
            num_results_evaluated=t.num_results_evaluated + bindparam("evaluated", type_=Integer),
            num_results=t.num_results + bindparam("results", type_=Integer),
            pages_fetched=t.pages_fetched + bindparam("pages", type_=Integer),
            web_bytes=t.web_bytes + bindparam("web_bytes", type_=Integer),
            search_requests=t.search_requests + bindparam("searches", type_=Integer),
        )
        .returning(*_PROGRESS_COLUMNS)
        .execution_options(synchronize_session=False)
    )


_COUNT_PROGRESS = _count_progress_statement()


async def count_progress(
    session: AsyncSession, task_id: str, *, discovered: int = 0, enriched: int = 0, evaluated: int = 0,
    results: int = 0, pages: int = 0, web_bytes: int = 0, searches: int = 0,
) -> Progress | None:
    """`refresh_counters` for a step that knows exactly what it moved: add the candidates its own
    statements inserted or advanced (their row counts, in the caller's transaction) to the counters.

    The counters stay equal to a recount as long as every candidate write goes through a step that adds
    its moves here; a recount reads every candidate of the task, this one row."""
    params = {"task_id": task_id, "discovered": discovered, "enriched": enriched, "evaluated": evaluated,
              "results": results, "pages": pages, "web_bytes": web_bytes, "searches": searches}
    row = (await session.execute(_COUNT_PROGRESS, params)).first()
    return None if row is None else Progress(*row)


# Provider warnings kept per task: enough to say what went wrong, never a growing log.
MAX_WARNINGS = 20


async def add_warnings(session: AsyncSession, task_id: str, notes: Sequence[str]) -> None:
    """Add what a provider reported to the task's warnings, each once, at most MAX_WARNINGS, in the caller's
    transaction; the row is locked first, as `add_removals` does."""
    stored = await session.scalar(
        select(DiscoveryTask.warnings).where(DiscoveryTask.id == task_id).with_for_update()
    )
    kept = list(dict.fromkeys([*(stored or []), *notes]))[:MAX_WARNINGS]
    if kept != (stored or []):
        await session.execute(update(DiscoveryTask).where(DiscoveryTask.id == task_id).values(warnings=kept))


async def add_removals(session: AsyncSession, task_id: str, removals: Removals) -> None:
    """Add what one step's `settle` removed to the task's tally, in the caller's transaction.

    A read-modify-write of one JSON value: the row is locked first on PostgreSQL, so a concurrent step of the
    same task waits instead of losing its part; SQLite's writers are serialised by BEGIN IMMEDIATE already."""
    if not removals:
        return
    stored = await session.scalar(
        select(DiscoveryTask.candidates_removed).where(DiscoveryTask.id == task_id).with_for_update()
    )
    if stored is None:  # a task from before the tally, resumed: start it from all its rows
        await recount_removals(session, task_id)
        return
    total = Removals.from_dict(stored) + removals
    await session.execute(_SET_REMOVALS, {"task_id": task_id, "removed": total.to_dict()})


async def recount_removals(session: AsyncSession, task_id: str) -> None:
    """`add_removals` for a replayed step, which cannot tell what it moved: the tally again from the rows."""
    rows = await session.execute(
        select(Candidate.stage, Candidate.removed_by).where(
            Candidate.task_id == task_id, Candidate.stage.in_(VERDICT_STAGES)
        )
    )
    total = tally((stage, removed_by) for stage, removed_by in rows.all())
    await session.execute(_SET_REMOVALS, {"task_id": task_id, "removed": total.to_dict()})


_SET_REMOVALS = (
    update(DiscoveryTask)
    .where(DiscoveryTask.id == bindparam("task_id"))
    .values(candidates_removed=bindparam("removed", type_=DiscoveryTask.__table__.c.candidates_removed.type))
    .execution_options(synchronize_session=False)
)


async def claim_next(session: AsyncSession, *, owner: str, now: datetime, until: datetime) -> str | None:
    """Lease the oldest task that needs work and nobody holds; None when there is none.

    The lease condition is repeated in the UPDATE so that, on PostgreSQL, two workers racing for the same
    row both re-check it under the row lock and only one wins.
    """
    free = or_(DiscoveryTask.lease_expires_at.is_(None), DiscoveryTask.lease_expires_at < now)
    pick = (
        select(DiscoveryTask.id)
        .where(DiscoveryTask.status.in_(ACTIVE_STATUSES), free)
        .order_by(DiscoveryTask.created_at, DiscoveryTask.id)
        .limit(1)
        .scalar_subquery()
    )
    result = await session.execute(
        update(DiscoveryTask)
        .where(DiscoveryTask.id == pick, DiscoveryTask.status.in_(ACTIVE_STATUSES), free)
        .values(lease_owner=owner, lease_expires_at=until, attempts=DiscoveryTask.attempts + 1)
        .returning(DiscoveryTask.id)
        .execution_options(synchronize_session=False)
    )
    return result.scalar_one_or_none()


async def count_run(session: AsyncSession, task_id: str) -> int | None:
    """Count one more run of the task (as a claim does); its run number, or None when the task is gone."""
    result = await session.execute(
        update(DiscoveryTask)
        .where(DiscoveryTask.id == task_id)
        .values(attempts=DiscoveryTask.attempts + 1)
        .returning(DiscoveryTask.attempts)
        .execution_options(synchronize_session=False)
    )
    return result.scalar_one_or_none()


async def renew_lease(session: AsyncSession, task_id: str, *, owner: str, until: datetime) -> bool:
    result = await session.execute(
        update(DiscoveryTask)
        .where(DiscoveryTask.id == task_id, DiscoveryTask.lease_owner == owner)
        .values(lease_expires_at=until)
        .returning(DiscoveryTask.id)
        .execution_options(synchronize_session=False)
    )
    return result.first() is not None


async def release_lease(session: AsyncSession, task_id: str, *, owner: str) -> None:
    await session.execute(
        update(DiscoveryTask)
        .where(DiscoveryTask.id == task_id, DiscoveryTask.lease_owner == owner)
        .values(lease_owner=None, lease_expires_at=None)
        .execution_options(synchronize_session=False)
    )


async def make_claimable(session: AsyncSession, task_id: str) -> None:
    """Clear a stale lease so the task is picked up at once (used when a task is (re)queued)."""
    await session.execute(
        update(DiscoveryTask)
        .where(DiscoveryTask.id == task_id, DiscoveryTask.lease_owner.is_(None))
        .values(lease_expires_at=None)
        .execution_options(synchronize_session=False)
    )


async def count_by_status(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(DiscoveryTask.status, func.count()).group_by(DiscoveryTask.status))
    return {status: int(n) for status, n in rows.all()}
