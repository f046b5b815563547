"""Candidate rows of a task. Writes are keyed on (task_id, domain) and conditional on the stage they
advance from, so re-running a step after a crash neither duplicates nor rewinds anything."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, literal, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from firmscout.storage import dialects
from firmscout.storage.dialects import Settled
from firmscout.storage.removals import Removals, tally
from firmscout.storage.tables import Candidate, SourceCursor, utcnow


async def insert_new(session: AsyncSession, task_id: str, rows: Sequence[dict[str, Any]]) -> int:
    """Insert candidates not seen before in this task (by domain); returns how many were new."""
    if not rows:
        return 0
    start = int(
        await session.scalar(select(func.coalesce(func.max(Candidate.position), -1)).where(
            Candidate.task_id == task_id
        ))
        or 0
    )
    return await dialects.of(session).insert_candidates(session, task_id, rows, first_position=start + 1)


@lru_cache(maxsize=16)
def _next_batch_statement(limit: int) -> Any:
    # Cached per batch size, as building it costs about what running it does. One index-ordered LIMIT per
    # stage on (task_id, stage, position), so a batch never sorts every unfinished candidate of the task.
    columns = cast(Table, Candidate.__table__).c

    def first(stage: str, rank: int) -> Any:
        # Wrapped in a subquery each: SQLite refuses ORDER BY/LIMIT on a bare member of a UNION.
        head = (
            select(*columns, literal(rank).label("rank"))
            .where(columns.task_id == bindparam("task_id"), columns.stage == stage)
            .order_by(columns.position)
            .limit(limit)
            .subquery()
        )
        return select(head)

    picked = union_all(first("enriched", 0), first("discovered", 1)).subquery("picked")
    return select(aliased(Candidate, picked)).order_by(picked.c.rank, picked.c.position).limit(limit)


async def next_batch(session: AsyncSession, task_id: str, limit: int) -> list[Candidate]:
    """The next candidates to work on, in one query: `enriched` ones (to grade) before `discovered` ones
    (to enrich), oldest first. All rows returned share one stage: a step works on a single stage."""
    rows = list((await session.scalars(_next_batch_statement(limit), {"task_id": task_id})).all())
    return [row for row in rows if row.stage == rows[0].stage]


@dataclass(frozen=True)
class Moves:
    """What one `settle` moved: candidates now `enriched`, now `evaluated`, of those the high fits, and the
    tally of why the ones that reached a verdict without becoming results were removed."""

    enriched: int
    evaluated: int
    results: int
    removals: Removals = field(default_factory=Removals)


async def settle(session: AsyncSession, *, from_stage: str, rows: Sequence[dict[str, Any]]) -> Moves | None:
    """Move a batch of candidates out of `from_stage`, each to its own stage, with the columns it carries.

    Each row is {"id": ..., "stage": <to>, <column>: <value>, ...}; columns are profile, scores, relevance,
    is_high_fit, evidence, prominence, removed_by and evaluated_at. The stage condition makes a replay after
    a crash a no-op for rows already moved. Returns what moved, or None when that is unknown (a replay found
    some rows already moved): the caller then recounts.
    """
    if not rows:
        return Moves(0, 0, 0)
    settled = await dialects.of(session).settle(session, from_stage, rows)
    return None if settled is None else _moves(settled)


def _moves(settled: Sequence[Settled]) -> Moves:
    enriched = evaluated = results = 0
    for stage, is_high_fit, _ in settled:
        enriched += stage == "enriched"
        evaluated += stage == "evaluated"
        results += stage == "evaluated" and is_high_fit
    return Moves(enriched, evaluated, results, tally((stage, removed_by) for stage, _, removed_by in settled))


async def present_domains(session: AsyncSession, task_id: str, domains: set[str]) -> set[str]:
    """Which of `domains` are candidates of the task already."""
    if not domains:
        return set()
    stmt = select(Candidate.domain).where(Candidate.task_id == task_id, Candidate.domain.in_(sorted(domains)))
    return set((await session.scalars(stmt)).all())


async def result_names(session: AsyncSession, task_id: str) -> list[tuple[str, str, str | None]]:
    """(domain, name, country) of the task's results so far."""
    rows = await session.execute(
        select(Candidate.domain, Candidate.profile).where(Candidate.task_id == task_id, Candidate.is_high_fit)
    )
    return [(domain, str(profile.get("name") or ""), profile.get("country")) for domain, profile in rows
            if isinstance(profile, dict)]


async def get_cursors(session: AsyncSession, task_id: str) -> dict[str, SourceCursor]:
    rows = (await session.scalars(select(SourceCursor).where(SourceCursor.task_id == task_id))).all()
    return {row.source: row for row in rows}


async def reopen_failed_sources(session: AsyncSession, task_id: str) -> None:
    await session.execute(
        update(SourceCursor).where(SourceCursor.task_id == task_id, SourceCursor.error.is_not(None))
        .values(is_exhausted=False, error=None, updated_at=utcnow())
    )


async def save_cursor(
    session: AsyncSession, task_id: str, source: str, *, cursor: str | None, is_exhausted: bool,
    error: str | None = None,
) -> None:
    stmt = dialects.of(session).insert(cast(Table, SourceCursor.__table__)).values(
        task_id=task_id, source=source, cursor=cursor, is_exhausted=is_exhausted, error=error, updated_at=utcnow()
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["task_id", "source"],
        set_={"cursor": cursor, "is_exhausted": is_exhausted, "error": error, "updated_at": utcnow()},
    )
    await session.execute(stmt)
