"""The API's cheap read path: one task by id, without an ORM session.

GET of a task is what polling clients send most. Through an `AsyncSession` it cost a pool checkout, BEGIN,
SELECT and ROLLBACK, each a hop to aiosqlite's thread and back, and ORM object loading: most of the CPU time
of the request (profile in docs/benchmarks.md, Load → API). Readers here run one Core statement from
`repositories/tasks.py`, so the row is converted by the same column types as on the normal path.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import StaticPool

from firmscout.storage.db import sync_url
from firmscout.storage.repositories import candidates as candidate_repo
from firmscout.storage.repositories import tasks as task_repo

# A reader waits at most this long for SQLite's WAL index (it never waits for writers under WAL; only a
# crash recovery of the WAL can make it wait) before the request fails with a transient error.
READ_BUSY_TIMEOUT_MS = 1000


ResultsView = tuple[task_repo.TaskView, list[candidate_repo.ResultView]]


class TaskReader(Protocol):
    async def scoped_task(
        self, task_id: str, *, organization_id: str | None, user_id: str
    ) -> task_repo.TaskView | None: ...

    async def scoped_results(
        self, task_id: str, *, organization_id: str | None, user_id: str, offset: int, limit: int
    ) -> ResultsView | None:
        """The task and one page of its results, read in one transaction (one moment)."""
        ...

    async def close(self) -> None: ...


class EngineTaskReader:
    """Any database: one statement on a pooled connection of the async engine (an in-memory SQLite database;
    PostgreSQL has its own reader, storage/pg_reader.py)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def scoped_task(
        self, task_id: str, *, organization_id: str | None, user_id: str
    ) -> task_repo.TaskView | None:
        stmt, params = task_repo.scoped_view_query(task_id, organization_id=organization_id, user_id=user_id)
        # AUTOCOMMIT: one statement needs no BEGIN and ROLLBACK, two round trips fewer per read.
        async with self._engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            row = (await conn.execute(stmt, params)).first()
        return task_repo.view_of(row) if row is not None else None

    async def scoped_results(
        self, task_id: str, *, organization_id: str | None, user_id: str, offset: int, limit: int
    ) -> ResultsView | None:
        stmt, params = task_repo.scoped_view_query(task_id, organization_id=organization_id, user_id=user_id)
        page, page_params = candidate_repo.results_view_query(task_id, offset=offset, limit=limit)
        async with self._engine.connect() as conn, conn.begin():
            row = (await conn.execute(stmt, params)).first()
            if row is None:
                return None
            rows = (await conn.execute(page, page_params)).all()
        return task_repo.view_of(row), [candidate_repo.ResultView(*r) for r in rows]

    async def close(self) -> None:
        pass


class SqliteTaskReader:
    """SQLite: a read-only connection of this process queried on the event loop's own thread.

    A primary-key lookup in a local file takes tens of microseconds, less than one hand-off to a driver
    thread, so it runs inline (blocking the loop that long) instead of through aiosqlite. The connection is
    opened read-only and `query_only`, so this path cannot write. The sqlite3 module runs a SELECT outside
    any transaction, so every read sees the latest commit; WAL means writers never block it.
    """

    def __init__(self, url: str) -> None:
        self._engine: Engine = create_engine(
            sync_url(url),
            # One connection, used only by the event loop's thread (requests take turns on it).
            poolclass=StaticPool,
            connect_args={"check_same_thread": False},
        )

        @event.listens_for(self._engine, "connect")
        def _on_connect(dbapi_conn: object, _record: object) -> None:
            cursor = dbapi_conn.cursor()  # type: ignore[attr-defined]
            cursor.execute("PRAGMA query_only=ON")
            cursor.execute(f"PRAGMA busy_timeout={READ_BUSY_TIMEOUT_MS}")
            cursor.close()

    async def scoped_task(
        self, task_id: str, *, organization_id: str | None, user_id: str
    ) -> task_repo.TaskView | None:
        stmt, params = task_repo.scoped_view_query(task_id, organization_id=organization_id, user_id=user_id)
        with self._engine.connect() as conn:
            row = conn.execute(stmt, params).first()
        return task_repo.view_of(row) if row is not None else None

    async def scoped_results(
        self, task_id: str, *, organization_id: str | None, user_id: str, offset: int, limit: int
    ) -> ResultsView | None:
        stmt, params = task_repo.scoped_view_query(task_id, organization_id=organization_id, user_id=user_id)
        page, page_params = candidate_repo.results_view_query(task_id, offset=offset, limit=limit)
        with self._engine.connect() as conn:
            # The sqlite3 module runs SELECTs outside a transaction; an explicit BEGIN makes both reads
            # one snapshot, so the envelope's counters and the page describe the same moment.
            conn.exec_driver_sql("BEGIN")
            try:
                row = conn.execute(stmt, params).first()
                rows = conn.execute(page, page_params).all() if row is not None else []
            finally:
                conn.exec_driver_sql("COMMIT")
        if row is None:
            return None
        return task_repo.view_of(row), [candidate_repo.ResultView(*r) for r in rows]

    async def close(self) -> None:
        self._engine.dispose()


def task_reader(url: str, engine: AsyncEngine, *, pool_size: int = 10) -> TaskReader:
    """The cheapest reader for the database; `pool_size` sizes PostgreSQL's own read pool."""
    if engine.dialect.name == "postgresql":
        # Imported here: pg_reader needs this module's ResultsView.
        from firmscout.storage.pg_reader import PgTaskReader

        return PgTaskReader(url, pool_size=pool_size)
    database = engine.url.database
    # An in-memory database exists only inside its own connection, so it is read through the engine.
    if engine.dialect.name == "sqlite" and database and database != ":memory:" and "mode=memory" not in url:
        return SqliteTaskReader(url)
    return EngineTaskReader(engine)
