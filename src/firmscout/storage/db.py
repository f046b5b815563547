"""Engine and session factories for SQLite (embedded default) and PostgreSQL, one code path."""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session

from firmscout.errors import FirmscoutError
from firmscout.storage import writelock

SQLITE_BUSY_TIMEOUT_MS = 30_000
WRITE_OPTION = "firmscout_write"


def async_url(url: str) -> URL:
    """Pick the async driver for a plain URL: `sqlite:///x.db` → aiosqlite, `postgresql://` → psycopg 3."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg")
    raise FirmscoutError(
        f"Unsupported database URL scheme {parsed.drivername!r}: use sqlite:///PATH or "
        "postgresql://USER@HOST:PORT/DB in FIRMSCOUT_DATABASE_URL."
    )


def sync_url(url: str) -> URL:
    """The same database through a blocking driver, for Alembic migrations."""
    parsed = async_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.set(drivername="sqlite")
    return parsed  # psycopg 3 serves both sync and async engines under one driver name


def is_sqlite(url: str | URL) -> bool:
    return make_url(str(url) if isinstance(url, URL) else url).get_backend_name() == "sqlite"


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module, so the "begin" hook below decides.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        # WAL: API readers are never blocked by the worker's writes.
        cursor.execute("PRAGMA journal_mode=WAL")
        # SQLite ships with FK enforcement off; candidate/cursor rows must die with their task.
        cursor.execute("PRAGMA foreign_keys=ON")
        # NORMAL is durable across application crashes in WAL mode; only an OS crash can lose the last commit.
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Writers queue for the lock instead of failing at once with "database is locked".
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers (unit_of_work) take the write lock up front with BEGIN IMMEDIATE: a deferred transaction
        # that reads and then writes can fail with SQLITE_BUSY mid-way, which busy_timeout cannot fix.
        # Readers use a deferred BEGIN, so under WAL they never wait for a writer.
        if conn.get_execution_options().get(WRITE_OPTION):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")

    @event.listens_for(engine.sync_engine, "reset")
    def _on_reset(dbapi_conn: Any, record: Any, state: Any) -> None:
        # Every transaction of ours ends with COMMIT or ROLLBACK before its connection comes back, yet the
        # pool's default reset sent one more ROLLBACK each time: a round trip to aiosqlite's thread (one in
        # twelve of a create's). SQLite knows whether a transaction is still open, without asking its thread.
        if state.asyncio_safe and not state.transaction_was_reset and record.driver_connection.in_transaction:
            dbapi_conn.rollback()


def create_engine(url: str, *, pool_size: int = 20, max_overflow: int = 0) -> AsyncEngine:
    """An async engine; `pool_size`/`max_overflow` size PostgreSQL's pool (SQLite has one writer anyway)."""
    target = async_url(url)
    if target.get_backend_name() == "sqlite":
        if target.database and target.database != ":memory:":
            Path(target.database).parent.mkdir(parents=True, exist_ok=True)
        # The pool's own reset (a ROLLBACK whenever a connection comes back) is replaced by `_on_reset`.
        engine = create_async_engine(target, pool_size=8, max_overflow=8, pool_reset_on_return=None)
        _configure_sqlite(engine)
        return engine
    # LIFO: the few connections a worker keeps busy are the ones it gets back, so their prepared statements
    # (psycopg prepares a statement on its fifth run on one connection) are reused instead of spread thin.
    return create_async_engine(target, pool_size=pool_size, max_overflow=max_overflow, pool_pre_ping=True,
                               pool_use_lifo=True)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


# SQLite has one write lock per database. Writers of one process queue for it here, on the event loop, rather
# than in SQLite's busy handler, which sleeps and polls (1, 2, 5 … 100 ms): with 32 concurrent creates the
# sleeping put p99 past a second (docs/benchmarks.md, Load → API). The process then takes its turn among other
# processes through a file lock (`storage/writelock.py`), which also wakes the next writer at once.
@dataclass
class _WriteTurns:
    in_process: asyncio.Lock
    across_processes: writelock.FileWriteLock | None


_sqlite_writers: weakref.WeakKeyDictionary[Any, _WriteTurns] = weakref.WeakKeyDictionary()


def _turns_for(engine: AsyncEngine) -> _WriteTurns:
    turns = _sqlite_writers.get(engine.sync_engine)
    if turns is None or (turns.across_processes and not turns.across_processes.owned_by_this_process):
        file_lock = writelock.open_for(engine.url.database)
        if file_lock is not None:
            weakref.finalize(engine.sync_engine, file_lock.close)
        turns = _WriteTurns(asyncio.Lock(), file_lock)
        _sqlite_writers[engine.sync_engine] = turns
    return turns


def _nothing() -> None:
    pass


@asynccontextmanager
async def _sqlite_write_turn(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[Callable[[], None]]:
    """Wait for this process's and then this database's writer turn; yields what hands both on early."""
    engine = sessions.kw.get("bind")
    if engine is None or engine.dialect.name != "sqlite":
        yield _nothing
        return
    turns = _turns_for(engine)
    # Wait as long as SQLite itself would; past that, go on and let busy_timeout decide as before.
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    try:
        await asyncio.wait_for(turns.in_process.acquire(), SQLITE_BUSY_TIMEOUT_MS / 1000)
    except TimeoutError:
        yield _nothing
        return
    file_lock = turns.across_processes
    try:
        got_file_lock = file_lock is not None and await file_lock.acquire(max(0.0, deadline - time.monotonic()))
    except BaseException:
        turns.in_process.release()
        raise
    held = True

    def let_others_in() -> None:
        nonlocal held
        if held:
            held = False
            if got_file_lock:
                assert file_lock is not None
                file_lock.release()
            turns.in_process.release()

    try:
        yield let_others_in
    finally:
        let_others_in()


@asynccontextmanager
async def unit_of_work(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One write transaction: commits when the block ends, rolls back if it raises."""
    async with _sqlite_write_turn(sessions) as let_others_in, sessions() as session:
        async with session.begin():
            # Procure the connection now, marked as a writer, so its BEGIN is IMMEDIATE on SQLite.
            await session.connection(execution_options={WRITE_OPTION: True})
            yield session
        # Committed: the next writer may start now, not after this session's clean-up (a quarter of a short
        # transaction's time holding the turn: connection reset and return to the pool, each a hop to
        # aiosqlite's thread).
        let_others_in()


@asynccontextmanager
async def read_only(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session for reads: ends its transaction with COMMIT, not the ROLLBACK a plain close sends.

    For a transaction that only read the two are the same, but psycopg forgets every statement it prepared
    on a connection whenever that connection rolls back (psycopg/_preparing.py: a rollback may undo objects
    a statement refers to). The worker's reads all ended that way, so no statement of the pipeline ever
    reached psycopg's prepare threshold, and PostgreSQL parsed and planned every one of them anew
    (bench.scaling: a third of its CPU per task; docs/benchmarks.md, Worker scaling). An error still rolls back.
    """
    async with sessions() as session:
        yield session
        await session.commit()


def after_commit(session: AsyncSession, callback: Callable[[], None]) -> None:
    """Run `callback` once `session`'s transaction commits; never if it rolls back."""
    session.sync_session.info.setdefault(_AFTER_COMMIT, []).append(callback)


# One listener pair for every session, registered once: registering a listener on each create's session
# (SQLAlchemy builds a wrapper and a dispatch collection every time) was 3 % of a create's CPU time.
_AFTER_COMMIT = "firmscout_after_commit"


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    for callback in session.info.pop(_AFTER_COMMIT, ()):
        callback()


@event.listens_for(Session, "after_rollback")
def _drop_after_commit(session: Session) -> None:
    session.info.pop(_AFTER_COMMIT, None)


def is_transient(exc: BaseException) -> bool:
    """Whether a database error is worth retrying: a lost connection, a busy or locked database.

    SQLite reports a missing table and a lock timeout with the same OperationalError class, so the
    class alone cannot decide; SQLAlchemy's disconnect detection and the message can.
    """
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, InterfaceError):
        return True
    if isinstance(exc, OperationalError):
        text = str(exc.orig or exc).lower()
        return any(word in text for word in ("locked", "busy", "connection", "terminat", "timeout", "shutdown"))
    return False
