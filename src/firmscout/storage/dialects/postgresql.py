"""PostgreSQL, for scale: batches as arrays (one prepared text per statement), COPY imports, tsvector search,
and the API's reads on psycopg's own pool."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from typing import Any, TypeVar

import psycopg
from psycopg import IsolationLevel
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from sqlalchemy import Connection, Select, Table, column, func, literal_column, select, table, text
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from firmscout.storage import company_rows
from firmscout.storage.dialects import BulkRow, Clause, Settled
from firmscout.storage.tables import new_id, utcnow
from firmscout.storage.views import (
    RESULTS_PAGE,
    TASK_BY_ORG,
    TASK_BY_USER,
    TASKS_BY_ORG,
    TASKS_BY_USER,
    TaskResults,
    TaskView,
    result_view,
    scope_params,
    task_view,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
Conn = psycopg.AsyncConnection[Any]

# Serialises migrators: a transaction-scoped advisory lock.
MIGRATION_LOCK = 7243001
# A read waits this long for a pooled connection before failing; a poller retries sooner than psycopg's 30 s.
CHECKOUT_TIMEOUT_S = 10.0
# Tries per read when its connection turns out dead (a terminated backend, a server restart).
READ_ATTEMPTS = 3
READER_NAME = "firmscout-reader"
_MIN_PREFIX_LEN = 3
_SEARCH_VECTOR: Any = literal_column("company.search_vector")

# A batch goes as one array per column, so each statement has one text for any batch size, which psycopg
# prepares once per connection.
_INSERT_CANDIDATES = text(
    "INSERT INTO candidate (id, task_id, domain, source, position, stage, company_id, hit, profile, is_high_fit,"
    " created_at)"
    " SELECT new.id, :task_id, new.domain, new.source, new.position, 'discovered', new.company_id, new.hit,"
    " new.profile, false, :created_at"
    " FROM unnest(CAST(:ids AS varchar[]), CAST(:domains AS varchar[]), CAST(:sources AS varchar[]),"
    " CAST(:positions AS integer[]), CAST(:company_ids AS bigint[]), CAST(:hits AS json[]),"
    " CAST(:profiles AS json[])) AS new(id, domain, source, position, company_id, hit, profile)"
    " ON CONFLICT (task_id, domain) DO NOTHING RETURNING id"
)
# Columns a settled row may set besides its stage, with their types; a missing (None) value keeps the stored one.
_SETTLED_COLUMNS = {
    "profile": "json", "scores": "json", "relevance": "integer", "is_high_fit": "boolean",
    "evidence": "integer", "prominence": "integer", "removed_by": "json", "evaluated_at": "timestamptz",
}
_SETTLE = text(
    "UPDATE candidate SET stage = settled.stage, "
    + ", ".join(f"{name} = coalesce(settled.{name}, candidate.{name})" for name in _SETTLED_COLUMNS)
    + " FROM unnest(CAST(:ids AS varchar[]), CAST(:stages AS varchar[]), "
    + ", ".join(f"CAST(:{name} AS {pg_type}[])" for name, pg_type in _SETTLED_COLUMNS.items())
    + f") AS settled(id, stage, {', '.join(_SETTLED_COLUMNS)})"
    + " WHERE candidate.id = settled.id AND candidate.stage = :from_stage"
    + " RETURNING candidate.stage, candidate.is_high_fit, candidate.removed_by"
)
_STAGE = table("company_stage", *(column(name) for name in company_rows.COLUMNS))
_CUSTOM_PLANS = text("SET LOCAL plan_cache_mode = force_custom_plan")


def _json_or_null(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


def _libpq(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _sql(stmt: Any) -> str:
    # psycopg's paramstyle; psycopg turns it into $n for the server-side prepared statement.
    return str(stmt.compile(dialect=postgresql.psycopg.dialect()))


async def _configure_reader(conn: Conn) -> None:
    # Lone statements run in autocommit; the results read (two statements) shares one REPEATABLE READ
    # snapshot, so the envelope's counters and the page describe the same moment.
    await conn.set_isolation_level(IsolationLevel.REPEATABLE_READ)
    await conn.set_read_only(True)


class PostgresReader:
    """psycopg_pool connections in autocommit with statements prepared on first use, one round trip per read.

    Opened on the first read, so processes that never serve one (`worker`, the CLI) open no connections.
    """

    def __init__(self, url: URL, *, pool_size: int) -> None:
        self._pool: AsyncConnectionPool[Conn] = AsyncConnectionPool(
            _libpq(url), min_size=pool_size, max_size=pool_size, open=False,
            kwargs={"autocommit": True, "prepare_threshold": 0, "application_name": READER_NAME},
            configure=_configure_reader, timeout=CHECKOUT_TIMEOUT_S, name=READER_NAME,
        )
        self._opened = False
        self._task = {None: _sql(TASK_BY_USER), "org": _sql(TASK_BY_ORG)}
        self._tasks = {None: _sql(TASKS_BY_USER), "org": _sql(TASKS_BY_ORG)}
        self._page = _sql(RESULTS_PAGE)

    async def _run(self, read: Callable[[Conn], Awaitable[T]]) -> T:
        if not self._opened:
            self._opened = True
            await self._pool.open()
        for attempt in range(1, READ_ATTEMPTS + 1):
            try:
                async with self._pool.connection() as conn:
                    return await read(conn)
            except PoolTimeout:
                raise
            except psycopg.OperationalError as exc:
                # A dead connection; its idle siblings likely died with it (a server restart). Check them
                # all and read again: a read changes nothing.
                if attempt == READ_ATTEMPTS:
                    raise
                log.warning("read failed on a lost connection (%s); checking the pool and retrying", exc)
                await self._pool.check()
        raise AssertionError("unreachable")

    async def task(self, task_id: str, *, organization_id: str | None, user_id: str) -> TaskView | None:
        sql = self._task["org" if organization_id else None]
        params = {"task_id": task_id, **scope_params(organization_id, user_id)}

        async def read(conn: Conn) -> Any:
            return await (await conn.execute(sql, params)).fetchone()

        row = await self._run(read)
        return task_view(row) if row is not None else None

    async def tasks(self, *, organization_id: str | None, user_id: str, offset: int, limit: int) -> list[TaskView]:
        sql = self._tasks["org" if organization_id else None]
        params = {"offset": offset, "limit": limit, **scope_params(organization_id, user_id)}

        async def read(conn: Conn) -> list[Any]:
            return await (await conn.execute(sql, params)).fetchall()

        return [task_view(row) for row in await self._run(read)]

    async def results(
        self, task_id: str, *, organization_id: str | None, user_id: str, offset: int, limit: int
    ) -> TaskResults | None:
        sql = self._task["org" if organization_id else None]
        params = {"task_id": task_id, **scope_params(organization_id, user_id)}
        page_params = {"task_id": task_id, "offset": offset, "limit": limit}

        async def read(conn: Conn) -> tuple[Any, list[Any]]:
            # Pipeline mode: BEGIN, both SELECTs and COMMIT in one round trip. A page of another
            # organization's task is read too, then dropped unread.
            async with conn.pipeline(), conn.transaction():
                task_cur = await conn.execute(sql, params)
                page_cur = await conn.execute(self._page, page_params)
            return await task_cur.fetchone(), await page_cur.fetchall()

        row, rows = await self._run(read)
        if row is None:
            return None
        return TaskResults(task_view(row), [result_view(r) for r in rows])

    async def close(self) -> None:
        if self._opened:
            await self._pool.close()


class PostgresDialect:
    name, embedded = "postgresql", False
    async_driver = sync_driver = "postgresql+psycopg"  # psycopg 3 serves both
    least, greatest = func.least, func.greatest

    def create_engine(self, url: URL, *, pool_size: int, max_overflow: int) -> AsyncEngine:
        # LIFO: a worker gets back the few connections it keeps busy, whose prepared statements are warm.
        return create_async_engine(url.set(drivername=self.async_driver), pool_size=pool_size,
                                   max_overflow=max_overflow, pool_pre_ping=True, pool_use_lifo=True)

    @contextmanager
    def migrating(self, url: URL) -> Iterator[Connection]:
        engine = create_sync_engine(url.set(drivername=self.sync_driver))
        try:
            with engine.begin() as conn:
                conn.execute(text(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
                yield conn
        finally:
            engine.dispose()

    def reader(self, engine: AsyncEngine, *, pool_size: int) -> PostgresReader:
        return PostgresReader(engine.url, pool_size=pool_size)

    def write_turn(self, engine: AsyncEngine) -> nullcontext[None]:
        return nullcontext()  # row locks order PostgreSQL's writers

    def own(self, url: URL) -> nullcontext[None]:
        return nullcontext()  # any number of processes share a PostgreSQL database

    def insert(self, table: Table) -> Any:
        return postgresql.insert(table)

    async def insert_candidates(
        self, session: AsyncSession, task_id: str, rows: Sequence[dict[str, Any]], *, first_position: int
    ) -> int:
        result = await session.execute(_INSERT_CANDIDATES, {
            "task_id": task_id, "created_at": utcnow(),
            "ids": [new_id() for _ in rows],
            "domains": [row["domain"] for row in rows],
            "sources": [row["source"] for row in rows],
            "positions": list(range(first_position, first_position + len(rows))),
            "company_ids": [row.get("company_id") for row in rows],
            "hits": [json.dumps(row.get("hit") or {}) for row in rows],
            "profiles": [_json_or_null(row.get("profile")) for row in rows],
        })
        return len(result.all())

    async def settle(
        self, session: AsyncSession, from_stage: str, rows: Sequence[dict[str, Any]]
    ) -> list[Settled] | None:
        params: dict[str, Any] = {
            "from_stage": from_stage, "ids": [row["id"] for row in rows], "stages": [row["stage"] for row in rows],
        }
        for name, pg_type in _SETTLED_COLUMNS.items():
            values = [row.get(name) for row in rows]
            params[name] = [_json_or_null(v) for v in values] if pg_type == "json" else values
        moved = (await session.execute(_SETTLE, params)).all()
        return [(stage, bool(high), removed_by) for stage, high, removed_by in moved]

    async def bulk_upsert_companies(self, session: AsyncSession, rows: Sequence[BulkRow]) -> None:
        # COPY into a staging table, then the row path's upsert as one INSERT … SELECT.
        driver = (await (await session.connection()).get_raw_connection()).driver_connection
        assert driver is not None
        columns = ", ".join(company_rows.COLUMNS)
        await session.execute(
            text(f"CREATE TEMPORARY TABLE {_STAGE.name} ON COMMIT DROP AS SELECT {columns} FROM company WITH NO DATA")
        )
        now = (utcnow(),)
        async with driver.cursor() as cursor, cursor.copy(f"COPY {_STAGE.name} ({columns}) FROM STDIN") as copy:
            for row in rows:
                await copy.write_row(row + now)
        staged = select(*(_STAGE.c[name] for name in company_rows.COLUMNS))
        stmt = postgresql.insert(company_rows.TABLE).from_select(company_rows.COLUMNS, staged)
        await session.execute(company_rows.on_conflict_update(stmt))
        await session.execute(text(f"DROP TABLE {_STAGE.name}"))

    def text_search(self, columns: Select[Any], company: Table, clauses: Sequence[Clause]) -> Select[Any]:
        # Words of a phrase in sequence (<->), prefix on the last one; a clause's phrases ANDed, clauses ORed.
        ored = []
        for clause in clauses:
            parts = []
            for words in clause:
                last = words[-1] + (":*" if len(words[-1]) >= _MIN_PREFIX_LEN else "")
                parts.append("(" + " <-> ".join([*words[:-1], last]) + ")")
            ored.append("(" + " & ".join(parts) + ")")
        query = func.to_tsquery("english", " | ".join(ored))
        return columns.where(_SEARCH_VECTOR.op("@@")(query)).order_by(
            func.ts_rank(_SEARCH_VECTOR, query).desc(), company.c.id
        )

    async def plan_for_values(self, session: AsyncSession) -> None:
        # Reads run prepared, and PostgreSQL may switch a prepared statement to one generic plan; whether
        # the text index, the country index or both pay depends on the words and countries of each search.
        await session.execute(_CUSTOM_PLANS)


DIALECT = PostgresDialect()
