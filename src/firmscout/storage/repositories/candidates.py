"""Candidate rows of a task. Writes are keyed on (task_id, domain) and conditional on the stage they
advance from, so re-running a step after a crash neither duplicates nor rewinds anything."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import (
    Integer,
    Table,
    Update,
    bindparam,
    func,
    literal,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from firmscout.storage.tables import Candidate, SourceCursor, new_id, utcnow


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
    now = utcnow()
    if session.get_bind().dialect.name == "postgresql":
        result = await session.execute(_PG_INSERT_NEW, {
            "task_id": task_id, "created_at": now,
            "ids": [new_id() for _ in rows],
            "domains": [row["domain"] for row in rows],
            "sources": [row["source"] for row in rows],
            "positions": list(range(start + 1, start + 1 + len(rows))),
            "company_ids": [row.get("company_id") for row in rows],
            "hits": [json.dumps(row.get("hit") or {}) for row in rows],
            "profiles": [_json_or_null(row.get("profile")) for row in rows],
        })
        return len(result.all())
    values = [
        {"id": new_id(), "task_id": task_id, "position": start + 1 + i, "created_at": now,
         "stage": "discovered", "is_high_fit": False, **row}
        for i, row in enumerate(rows)
    ]
    stmt = sqlite_insert(Candidate).on_conflict_do_nothing(index_elements=["task_id", "domain"])
    result = await session.execute(stmt.returning(Candidate.id), values)
    return len(result.all())


# PostgreSQL gets the rows of a batch as one array per column, so the statement's text is the same for any
# number of rows: psycopg prepares it like any other statement, and PostgreSQL stops parsing and planning
# it per batch. A multi-row VALUES had a new text for every row count (bench.scaling, PostgreSQL CPU per task).
_PG_INSERT_NEW = text(
    "INSERT INTO candidate (id, task_id, domain, source, position, stage, company_id, hit, profile, is_high_fit,"
    " created_at)"
    " SELECT new.id, :task_id, new.domain, new.source, new.position, 'discovered', new.company_id, new.hit,"
    " new.profile, false, :created_at"
    " FROM unnest(CAST(:ids AS varchar[]), CAST(:domains AS varchar[]), CAST(:sources AS varchar[]),"
    " CAST(:positions AS integer[]), CAST(:company_ids AS bigint[]), CAST(:hits AS json[]),"
    " CAST(:profiles AS json[])) AS new(id, domain, source, position, company_id, hit, profile)"
    " ON CONFLICT (task_id, domain) DO NOTHING RETURNING id"
)


def _json_or_null(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


async def pending(session: AsyncSession, task_id: str, stage: str, limit: int) -> list[Candidate]:
    stmt = (
        select(Candidate)
        .where(Candidate.task_id == task_id, Candidate.stage == stage)
        .order_by(Candidate.position)
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())


@lru_cache(maxsize=16)
def _next_batch_statement(limit: int) -> Any:
    # Cached per batch size: building the statement took as long as running it (py-spy on a worker).
    # One index-ordered LIMIT per stage on (task_id, stage, position), instead of one sort over every
    # unfinished candidate of the task: a task that discovered 700 candidates read all 700 rows per batch
    # (0.5 ms of PostgreSQL CPU per step in bench.scaling; O(n²) over a task).
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


@lru_cache(maxsize=64)
def _advance_statement(from_stage: str, to_stage: str, columns: tuple[str, ...]) -> Update:
    table = cast(Table, Candidate.__table__)
    return (
        update(table)
        .where(table.c.id == bindparam("_id"), table.c.stage == from_stage)
        .values(stage=to_stage, **{column: bindparam(f"_{column}") for column in columns})
    )


async def advance_many(
    session: AsyncSession, *, from_stage: str, to_stage: str, rows: Sequence[dict[str, Any]]
) -> int:
    """Move candidates from one stage to the next in one executemany round trip; returns how many moved.

    Each row is {"id": ..., <column>: <value>, ...} with the same columns in every row. The stage
    condition makes a replay after a crash a no-op for rows already advanced.
    """
    if not rows:
        return 0
    stmt = _advance_statement(from_stage, to_stage, tuple(key for key in rows[0] if key != "id"))
    params = [{f"_{key}": value for key, value in row.items()} for row in rows]
    result = await session.execute(stmt, params)
    return int(result.rowcount)  # type: ignore[attr-defined]


async def advance_ids(session: AsyncSession, *, from_stage: str, to_stage: str, ids: Sequence[str]) -> int:
    """Move candidates to the next stage without changing anything else: one statement for the batch;
    returns how many moved."""
    if not ids:
        return 0
    result = await session.execute(
        update(Candidate)
        .where(Candidate.id.in_(ids), Candidate.stage == from_stage)
        .values(stage=to_stage)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Moves:
    """What one `settle` moved: candidates now `enriched`, now `evaluated`, and of those the high fits."""

    enriched: int
    evaluated: int
    results: int


# Columns a settled row may set besides its stage, with their PostgreSQL types; a missing (None) value
# leaves the stored one.
_SETTLED_COLUMNS = {
    "profile": "json", "scores": "json", "relevance": "integer", "is_high_fit": "boolean",
    "evaluated_at": "timestamptz",
}


async def settle(session: AsyncSession, *, from_stage: str, rows: Sequence[dict[str, Any]]) -> Moves | None:
    """Move a batch of candidates out of `from_stage`, each to its own stage, with the columns it carries.

    Each row is {"id": ..., "stage": <to>, <column>: <value>, ...} with columns from `_SETTLED_COLUMNS`.
    The stage condition makes a replay after a crash a no-op for rows already moved. Returns what moved,
    or None when that is unknown (on SQLite, a replay that found some rows already moved): the caller
    then recounts. On PostgreSQL the batch is one UPDATE … FROM unnest(arrays) RETURNING, which replaced an
    executemany per column set and an UPDATE per target stage (bench.scaling, PostgreSQL CPU per task).
    """
    if not rows:
        return Moves(0, 0, 0)
    if session.get_bind().dialect.name == "postgresql":
        return await _settle_in_one_statement(session, from_stage, rows)
    moved = 0
    groups: dict[tuple[str, tuple[str, ...]], list[dict[str, Any]]] = {}
    for row in rows:
        columns = tuple(key for key in row if key not in ("id", "stage"))
        groups.setdefault((row["stage"], columns), []).append({k: v for k, v in row.items() if k != "stage"})
    for (to_stage, columns), group in groups.items():
        if columns:
            moved += await advance_many(session, from_stage=from_stage, to_stage=to_stage, rows=group)
        else:
            ids = [row["id"] for row in group]
            moved += await advance_ids(session, from_stage=from_stage, to_stage=to_stage, ids=ids)
    if moved < len(rows):
        return None
    return _moves((row["stage"], bool(row.get("is_high_fit"))) for row in rows)


def _moves(settled: Iterable[tuple[str, bool]]) -> Moves:
    enriched = evaluated = results = 0
    for stage, is_high_fit in settled:
        enriched += stage == "enriched"
        evaluated += stage == "evaluated"
        results += stage == "evaluated" and is_high_fit
    return Moves(enriched, evaluated, results)


async def _settle_in_one_statement(session: AsyncSession, from_stage: str, rows: Sequence[dict[str, Any]]) -> Moves:
    params: dict[str, Any] = {
        "from_stage": from_stage, "ids": [row["id"] for row in rows], "stages": [row["stage"] for row in rows],
    }
    for name, pg_type in _SETTLED_COLUMNS.items():
        column_values = [row.get(name) for row in rows]
        params[name] = [_json_or_null(v) for v in column_values] if pg_type == "json" else column_values
    moved = await session.execute(_PG_SETTLE, params)
    return _moves((stage, bool(high)) for stage, high in moved.all())


# One text for any batch, as `_PG_INSERT_NEW`.
_PG_SETTLE = text(
    "UPDATE candidate SET stage = settled.stage, "
    + ", ".join(f"{name} = coalesce(settled.{name}, candidate.{name})" for name in _SETTLED_COLUMNS)
    + " FROM unnest(CAST(:ids AS varchar[]), CAST(:stages AS varchar[]), "
    + ", ".join(f"CAST(:{name} AS {pg_type}[])" for name, pg_type in _SETTLED_COLUMNS.items())
    + f") AS settled(id, stage, {', '.join(_SETTLED_COLUMNS)})"
    + " WHERE candidate.id = settled.id AND candidate.stage = :from_stage"
    + " RETURNING candidate.stage, candidate.is_high_fit"
)


async def results_page(session: AsyncSession, task_id: str, *, offset: int, limit: int) -> list[Candidate]:
    """Visible results, best first; the (relevance, created_at, id) order makes paging stable."""
    stmt = (
        select(Candidate)
        .where(Candidate.task_id == task_id, Candidate.is_high_fit.is_(True))
        .order_by(Candidate.relevance.desc(), Candidate.created_at, Candidate.id)
        .offset(offset)
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())


@dataclass(frozen=True)
class ResultView:
    """The columns of a result the API shows, read without the ORM (storage/reader.py)."""

    id: str
    task_id: str
    domain: str
    source: str
    company_id: int | None
    profile: dict[str, Any] | None
    scores: dict[str, Any] | None
    relevance: int | None
    created_at: datetime


# The statement of `results_page`, built once, over the columns of ResultView only.
_RESULTS_VIEW = (
    select(*[Candidate.__table__.c[f.name] for f in fields(ResultView)])
    .where(Candidate.task_id == bindparam("task_id"), Candidate.is_high_fit.is_(True))
    .order_by(Candidate.relevance.desc(), Candidate.created_at, Candidate.id)
    .offset(bindparam("offset", type_=Integer))
    .limit(bindparam("limit", type_=Integer))
)


def view_of_candidate(row: Candidate) -> ResultView:
    return ResultView(*(getattr(row, f.name) for f in fields(ResultView)))


def results_view_query(task_id: str, *, offset: int, limit: int) -> tuple[Any, dict[str, Any]]:
    """`results_page` as one Core statement and its parameters, rows for `ResultView`."""
    return _RESULTS_VIEW, {"task_id": task_id, "offset": offset, "limit": limit}


async def get_cursors(session: AsyncSession, task_id: str) -> dict[str, SourceCursor]:
    rows = (await session.scalars(select(SourceCursor).where(SourceCursor.task_id == task_id))).all()
    return {row.source: row for row in rows}


async def save_cursor(
    session: AsyncSession, task_id: str, source: str, *, cursor: str | None, is_exhausted: bool
) -> None:
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert
    stmt = insert(SourceCursor).values(
        task_id=task_id, source=source, cursor=cursor, is_exhausted=is_exhausted, updated_at=utcnow()
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["task_id", "source"],
        set_={"cursor": cursor, "is_exhausted": is_exhausted, "updated_at": utcnow()},
    )
    await session.execute(stmt)
