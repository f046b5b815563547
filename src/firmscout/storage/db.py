"""Engines, sessions and units of work, one code path for SQLite and PostgreSQL (storage/dialects)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from firmscout.storage import dialects


def async_url(url: str) -> URL:
    """The async driver for a plain URL: `sqlite:///x.db` → aiosqlite, `postgresql://` → psycopg 3."""
    return make_url(url).set(drivername=dialects.for_url(url).async_driver)


def sync_url(url: str) -> URL:
    """The same database through a blocking driver, for Alembic migrations."""
    return make_url(url).set(drivername=dialects.for_url(url).sync_driver)


def create_engine(url: str, *, pool_size: int = 20, max_overflow: int = 0) -> AsyncEngine:
    """An async engine; `pool_size`/`max_overflow` size PostgreSQL's pool (SQLite has one writer anyway)."""
    return dialects.for_url(url).create_engine(make_url(url), pool_size=pool_size, max_overflow=max_overflow)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def unit_of_work(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One write transaction: commits when the block ends, rolls back if it raises."""
    engine = sessions.kw["bind"]
    # Exited in reverse: COMMIT, then the write turn, then the session's clean-up.
    async with sessions() as session, dialects.of_engine(engine).write_turn(engine), session.begin():
        # Procure the connection now, marked as a writer, so SQLite takes its write lock at BEGIN.
        await session.connection(execution_options={dialects.WRITE_OPTION: True})
        yield session


@asynccontextmanager
async def read_only(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session for reads: ends its transaction with COMMIT, not the ROLLBACK a plain close sends.

    The two are the same for a read, but psycopg forgets the statements it prepared on a connection at every
    rollback, so reads ending that way would never run prepared. An error still rolls back.
    """
    async with sessions() as session:
        yield session
        await session.commit()


def after_commit(session: AsyncSession, callback: Callable[[], None]) -> None:
    """Run `callback` once `session`'s transaction commits; never if it rolls back."""
    session.sync_session.info.setdefault(_AFTER_COMMIT, []).append(callback)


# One listener pair for every session, registered once, rather than a listener per session.
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
