"""SQLite, the embedded default: one process owns the file; WAL, FTS5, and reads inline on the event loop."""

from __future__ import annotations

import asyncio
import fcntl
import os
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Integer,
    Select,
    Table,
    bindparam,
    column,
    event,
    func,
    literal_column,
    select,
    table,
    text,
    update,
)
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import StaticPool

from firmscout.errors import FirmscoutError
from firmscout.storage import company_rows
from firmscout.storage.dialects import WRITE_OPTION, BulkRow, Clause, Settled
from firmscout.storage.tables import Candidate, new_id, utcnow
from firmscout.storage.views import (
    RESULTS_PAGE,
    TaskResults,
    TaskView,
    result_view,
    scope_params,
    task_statement,
    task_view,
    tasks_statement,
)

BUSY_TIMEOUT_MS = 30_000
# A reader never waits for writers under WAL; only a recovery of the WAL can make it wait.
READ_BUSY_TIMEOUT_MS = 1000
OWNER_SUFFIX = "-firmscout.pid"
# Prefix matching on "ab*" would match half the index; shorter words must match whole.
_MIN_PREFIX_LEN = 3
_FTS = table("company_fts", column("rowid", Integer), column("company_fts"))
_FTS_INSERT_TRIGGER_SQL = text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'company_fts_ai'")
# A bulk import's writer keeps the domain index's pages cached between batches.
_IMPORT_CACHE_KIB = 64 * 1024
_UPSERT = company_rows.on_conflict_update(sqlite.insert(company_rows.TABLE)).compile(
    dialect=sqlite.dialect(paramstyle="qmark"), column_keys=company_rows.COLUMNS
)
assert _UPSERT.positiontup == company_rows.COLUMNS, "bulk rows are bound by position"
# The bulk path binds updated_at itself, in the text format SQLAlchemy reads back.
_UPDATED_AT_TEXT: Any = company_rows.TABLE.c.updated_at.type.dialect_impl(sqlite.dialect()).bind_processor(
    sqlite.dialect()
)


_WRITE_TURNS: weakref.WeakKeyDictionary[Engine, asyncio.Lock] = weakref.WeakKeyDictionary()


def _database(url: URL) -> Path:
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise FirmscoutError(
            f"Firmscout keeps its data in a SQLite file: {url.render_as_string()} names none. "
            "Use sqlite:///PATH/firmscout.db (or leave FIRMSCOUT_DATABASE_URL unset)."
        )
    return Path(url.database)


def _configure(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Transaction control moves from the sqlite3 module to the "begin" hook below.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        # WAL: readers are never blocked by the writer.
        cursor.execute("PRAGMA journal_mode=WAL")
        # Off by default in SQLite; candidate and cursor rows must die with their task.
        cursor.execute("PRAGMA foreign_keys=ON")
        # Durable across application crashes in WAL mode; only an OS crash can lose the last commit.
        cursor.execute("PRAGMA synchronous=NORMAL")
        # A short command beside `serve` waits for the write lock instead of failing at once.
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers lock up front: a deferred transaction that reads, then writes, can fail with SQLITE_BUSY
        # midway, which busy_timeout cannot cure. Readers stay deferred and never wait under WAL.
        immediate = conn.get_execution_options().get(WRITE_OPTION)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    @event.listens_for(engine, "reset")
    def _on_reset(dbapi_conn: Any, record: Any, state: Any) -> None:
        # Our transactions end before their connection returns; roll back only one left open, sparing a
        # hop to aiosqlite's thread on every return.
        if state.asyncio_safe and not state.transaction_was_reset and record.driver_connection.in_transaction:
            dbapi_conn.rollback()


class SqliteReader:
    """Reads on the event loop's own thread, through one read-only connection of this process.

    A primary-key read of a local file is quicker than a hand-off to a driver thread. The sqlite3 module
    runs a lone SELECT outside any transaction, so each read sees the latest commit.
    """

    def __init__(self, url: URL) -> None:
        self._engine = create_sync_engine(
            url.set(drivername=SqliteDialect.sync_driver), poolclass=StaticPool,
            connect_args={"check_same_thread": False},
        )

        @event.listens_for(self._engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA query_only=ON")
            cursor.execute(f"PRAGMA busy_timeout={READ_BUSY_TIMEOUT_MS}")
            cursor.close()

    async def task(self, task_id: str, *, organization_id: str | None, user_id: str) -> TaskView | None:
        with self._engine.connect() as conn:
            row = conn.execute(task_statement(organization_id),
                               {"task_id": task_id, **scope_params(organization_id, user_id)}).first()
        return task_view(row) if row is not None else None

    async def tasks(self, *, organization_id: str | None, user_id: str, offset: int, limit: int) -> list[TaskView]:
        params = {"offset": offset, "limit": limit, **scope_params(organization_id, user_id)}
        with self._engine.connect() as conn:
            return [task_view(row) for row in conn.execute(tasks_statement(organization_id), params)]

    async def results(
        self, task_id: str, *, organization_id: str | None, user_id: str, offset: int, limit: int
    ) -> TaskResults | None:
        with self._engine.connect() as conn:
            # One snapshot for both reads, so the envelope's counters and the page describe one moment.
            conn.exec_driver_sql("BEGIN")
            try:
                row = conn.execute(task_statement(organization_id),
                                   {"task_id": task_id, **scope_params(organization_id, user_id)}).first()
                page = (conn.execute(RESULTS_PAGE, {"task_id": task_id, "offset": offset, "limit": limit}).all()
                        if row is not None else [])
            finally:
                conn.exec_driver_sql("COMMIT")
        if row is None:
            return None
        return TaskResults(task_view(row), [result_view(r) for r in page])

    async def close(self) -> None:
        self._engine.dispose()


@lru_cache(maxsize=64)
def _settle_statement(from_stage: str, to_stage: str, columns: tuple[str, ...]) -> Any:
    candidate: Table = Candidate.__table__  # type: ignore[assignment]
    return (
        update(candidate)
        .where(candidate.c.id == bindparam("_id"), candidate.c.stage == from_stage)
        .values(stage=to_stage, **{name: bindparam(f"_{name}") for name in columns})
    )


def _fts5_query(clauses: Sequence[Clause]) -> str:
    """Each phrase quoted (prefix on its last word), a clause's phrases joined by AND, clauses by OR."""
    ored = []
    for clause in clauses:
        quoted = []
        for words in clause:
            phrase = '"' + " ".join(words) + '"'
            if len(words[-1]) >= _MIN_PREFIX_LEN:
                phrase += " *"
            quoted.append(phrase)
        ored.append("(" + " AND ".join(quoted) + ")" if len(quoted) > 1 else quoted[0])
    return " OR ".join(ored)


class SqliteDialect:
    name, embedded = "sqlite", True
    async_driver, sync_driver = "sqlite+aiosqlite", "sqlite"
    least, greatest = func.min, func.max  # SQLite's min and max of several arguments

    def create_engine(self, url: URL, *, pool_size: int, max_overflow: int) -> AsyncEngine:
        _database(url).parent.mkdir(parents=True, exist_ok=True)
        # The pool's own reset is replaced by `_on_reset`; SQLite has one writer, so a small pool suffices.
        engine = create_async_engine(url.set(drivername=self.async_driver), pool_size=8, max_overflow=8,
                                     pool_reset_on_return=None)
        _configure(engine.sync_engine)
        return engine

    @contextmanager
    def migrating(self, url: URL) -> Iterator[Connection]:
        _database(url).parent.mkdir(parents=True, exist_ok=True)
        engine = create_sync_engine(url.set(drivername=self.sync_driver))

        @event.listens_for(engine, "connect")
        def _autocommit(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _immediate(conn: Any) -> None:
            # A short command started beside `serve` migrates after it, not at the same time.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        try:
            with engine.begin() as conn:
                yield conn
        finally:
            engine.dispose()

    def reader(self, engine: AsyncEngine, *, pool_size: int) -> SqliteReader:
        return SqliteReader(engine.url)

    def write_turn(self, engine: AsyncEngine) -> asyncio.Lock:
        # SQLite has one write lock: the process's writers queue for it here, on the event loop, rather than
        # in SQLite's busy handler, which sleeps and polls and so stretches the tail of concurrent writes.
        lock = _WRITE_TURNS.get(engine.sync_engine)
        if lock is None:
            lock = _WRITE_TURNS[engine.sync_engine] = asyncio.Lock()
        return lock

    @contextmanager
    def own(self, url: URL) -> Iterator[None]:
        """An exclusive lock on `<database>-firmscout.pid`, which the OS drops when the process dies."""
        database = _database(url)
        database.parent.mkdir(parents=True, exist_ok=True)  # a first start: the data directory is not there yet
        path = Path(f"{database}{OWNER_SUFFIX}")
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                owner = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
                raise FirmscoutError(
                    f"{database} is already in use by another Firmscout server or worker (pid {owner}). One "
                    "process serves a SQLite database; to run several, use PostgreSQL "
                    "(FIRMSCOUT_DATABASE_URL=postgresql://USER@HOST:PORT/DB)."
                ) from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
            yield
        finally:
            os.close(fd)  # releases the lock

    def insert(self, table: Table) -> Any:
        return sqlite.insert(table)

    async def insert_candidates(
        self, session: AsyncSession, task_id: str, rows: Sequence[dict[str, Any]], *, first_position: int
    ) -> int:
        now = utcnow()
        values = [
            {"id": new_id(), "task_id": task_id, "position": first_position + i, "created_at": now,
             "stage": "discovered", "is_high_fit": False, **row}
            for i, row in enumerate(rows)
        ]
        stmt = sqlite.insert(Candidate).on_conflict_do_nothing(index_elements=["task_id", "domain"])
        return len((await session.execute(stmt.returning(Candidate.id), values)).all())

    async def settle(
        self, session: AsyncSession, from_stage: str, rows: Sequence[dict[str, Any]]
    ) -> list[Settled] | None:
        # One executemany per (target stage, columns set); SQLite has no arrays to send the batch at once.
        groups: dict[tuple[str, tuple[str, ...]], list[dict[str, Any]]] = {}
        for row in rows:
            columns = tuple(key for key in row if key not in ("id", "stage"))
            groups.setdefault((row["stage"], columns), []).append(
                {f"_{key}": value for key, value in row.items() if key != "stage"}
            )
        moved = 0
        for (to_stage, columns), params in groups.items():
            result = await session.execute(_settle_statement(from_stage, to_stage, columns), params)
            moved += int(result.rowcount)  # type: ignore[attr-defined]
        if moved < len(rows):
            return None
        return [(row["stage"], bool(row.get("is_high_fit")), row.get("removed_by")) for row in rows]

    async def bulk_upsert_companies(self, session: AsyncSession, rows: Sequence[BulkRow]) -> None:
        # New rows are indexed by one INSERT … SELECT into FTS5 instead of the row trigger, which tokenizes
        # far slower one row at a time; updates keep the AFTER UPDATE trigger. BEGIN IMMEDIATE holds the
        # write lock, so every id above the current maximum is a row this statement inserted.
        trigger = await session.scalar(_FTS_INSERT_TRIGGER_SQL)
        if trigger is None:
            raise FirmscoutError(
                "The company database lacks its full-text trigger company_fts_ai: restore it by re-running the "
                "migrations on a fresh database (firmscout serve migrates on start)."
            )
        after = await session.scalar(select(func.coalesce(func.max(company_rows.TABLE.c.id), 0)))
        await session.execute(text("DROP TRIGGER company_fts_ai"))
        now = (_UPDATED_AT_TEXT(utcnow()),)
        driver = (await (await session.connection()).get_raw_connection()).driver_connection
        assert driver is not None
        await driver.execute(f"PRAGMA cache_size = -{_IMPORT_CACHE_KIB}")
        # Plain tuples straight to the driver: SQLAlchemy's per-row parameter processing would double the cost.
        await driver.executemany(_UPSERT.string, [row + now for row in rows])
        await session.execute(
            text("INSERT INTO company_fts(rowid, search_text) SELECT id, search_text FROM company WHERE id > :after"),
            {"after": after},
        )
        await session.execute(text(trigger))  # the stored definition, so it never drifts from the migration

    def text_search(self, columns: Select[Any], company: Table, clauses: Sequence[Clause]) -> Select[Any]:
        return (
            columns.join(_FTS, _FTS.c.rowid == company.c.id)
            .where(_FTS.c.company_fts.op("MATCH")(_fts5_query(clauses)))
            .order_by(func.bm25(literal_column("company_fts")), company.c.id)  # bm25() is lower-is-better
        )

    async def plan_for_values(self, session: AsyncSession) -> None:
        return None  # SQLite plans every statement for its values


DIALECT = SqliteDialect()
