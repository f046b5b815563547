"""Where SQLite and PostgreSQL differ, behind one small interface; one module per dialect.

The dialect is chosen from the database URL when the engine is made (`for_url`) and found again from a
session's engine (`of`). Nothing outside this package asks which database it runs on.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import Any, Protocol

from sqlalchemy import Connection, Select, Table
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from firmscout.errors import FirmscoutError
from firmscout.storage.views import TaskReader

# The execution option that marks a write transaction's connection (SQLite then locks at BEGIN).
WRITE_OPTION = "firmscout_write"
# A company row as the bulk upsert writes it (storage/company_rows.py), and a settled candidate's
# (stage, is_high_fit, removed_by).
BulkRow = tuple[Any, ...]
Settled = tuple[str, bool, list[str] | None]
# A full-text condition: runs of words (phrases) a company's text must hold all of.
Clause = Sequence[Sequence[str]]


class Dialect(Protocol):
    name: str
    # One process owns the database and runs its worker in-process (SQLite); else any number of `serve` and
    # `worker` processes share it through procrastinate (PostgreSQL).
    embedded: bool
    # SQLAlchemy's driver names: the async one the app uses, the blocking one migrations use.
    async_driver: str
    sync_driver: str
    # The SQL functions for the smaller and the larger of two values.
    least: Any
    greatest: Any

    def create_engine(self, url: URL, *, pool_size: int, max_overflow: int) -> AsyncEngine: ...

    def migrating(self, url: URL) -> AbstractContextManager[Connection]:
        """A connection in a transaction that no other migrating process runs beside."""
        ...

    def reader(self, engine: AsyncEngine, *, pool_size: int) -> TaskReader: ...

    def write_turn(self, engine: AsyncEngine) -> AbstractAsyncContextManager[None]:
        """Held from BEGIN to COMMIT of each write transaction of this process."""
        ...

    def own(self, url: URL) -> AbstractContextManager[None]:
        """Held by a long-lived process (`serve`, `worker`) for its life: refuses one that may not join."""
        ...

    def insert(self, table: Table) -> Any:
        """INSERT with this dialect's ON CONFLICT clauses."""
        ...

    async def insert_candidates(
        self, session: AsyncSession, task_id: str, rows: Sequence[dict[str, Any]], *, first_position: int
    ) -> int:
        """Insert candidates not yet in the task (by domain); returns how many were new."""
        ...

    async def settle(
        self, session: AsyncSession, from_stage: str, rows: Sequence[dict[str, Any]]
    ) -> list[Settled] | None:
        """Move candidates out of `from_stage` (storage/repositories/candidates.settle); None when some had
        already moved and what moved is unknown."""
        ...

    async def bulk_upsert_companies(self, session: AsyncSession, rows: Sequence[BulkRow]) -> None: ...

    def text_search(self, columns: Select[Any], company: Table, clauses: Sequence[Clause]) -> Select[Any]:
        """`columns` of the companies whose text satisfies any of `clauses`, best first."""
        ...

    async def plan_for_values(self, session: AsyncSession) -> None:
        """Plan this transaction's later statements for their own parameter values."""
        ...


def for_url(url: str | URL) -> Dialect:
    parsed = url if isinstance(url, URL) else make_url(url)
    dialect = _named(parsed.get_backend_name())
    if dialect is None:
        raise FirmscoutError(
            f"Unsupported database URL scheme {parsed.drivername!r}: use sqlite:///PATH or "
            "postgresql://USER@HOST:PORT/DB in FIRMSCOUT_DATABASE_URL."
        )
    return dialect


def of(session: AsyncSession) -> Dialect:
    dialect = _named(session.get_bind().dialect.name)
    assert dialect is not None, "sessions are only made on engines of a supported dialect"
    return dialect


def of_engine(engine: AsyncEngine) -> Dialect:
    dialect = _named(engine.dialect.name)
    assert dialect is not None, "engines are only made for a supported dialect"
    return dialect


def _named(backend: str) -> Dialect | None:
    if not _KNOWN:
        # Imported on first use: each dialect module imports this one for its types.
        from firmscout.storage.dialects import postgresql, sqlite

        _KNOWN.update(sqlite=sqlite.DIALECT, postgresql=postgresql.DIALECT, postgres=postgresql.DIALECT)
    return _KNOWN.get(backend)


# Every repository call looks its dialect up here, so the table is built once.
_KNOWN: dict[str, Dialect] = {}
