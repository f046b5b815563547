"""PostgreSQL's cheap read path: psycopg's own pool and server-side prepared statements, one round trip per GET.

Through the SQLAlchemy engine a GET of a task cost a pool checkout with a pre-ping (one round trip), the
autocommit switch and its reset on return, a greenlet hop per statement, and SQLAlchemy's execution context:
about 1 ms of the API process's CPU per request, against 0.14 ms in the PostgreSQL backend (profile in
docs/benchmarks.md, Load → API). Here a request takes an idle connection from psycopg_pool (no I/O), sends
Bind/Execute of a statement prepared once per connection, and reads one row. The statements are the Core
statements of `repositories/`, compiled once for PostgreSQL, so the SQL is still written in one place.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import psycopg
from psycopg import IsolationLevel
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url

from firmscout.storage.reader import ResultsView
from firmscout.storage.repositories import candidates as candidate_repo
from firmscout.storage.repositories import tasks as task_repo

log = logging.getLogger(__name__)
T = TypeVar("T")
Conn = psycopg.AsyncConnection[Any]

# A request waits this long for a pooled connection (all busy, or the server unreachable) before it fails,
# rather than psycopg_pool's 30 s default: a poller retries sooner than that anyway.
CHECKOUT_TIMEOUT_S = 10.0
# Tries per read when its connection turns out dead (a terminated backend, a server restart): each retry
# follows a check of the idle connections, so the second try nearly always gets a live one.
ATTEMPTS = 3
APPLICATION_NAME = "firmscout-reader"


def _sql(stmt: Any) -> str:
    # psycopg's paramstyle (%(name)s); psycopg turns it into $n for the server-side prepared statement.
    return str(stmt.compile(dialect=postgresql.psycopg.dialect()))


def _conninfo(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _configure(conn: Conn) -> None:
    # Single statements run in autocommit (no BEGIN/COMMIT round trips); the results read, two statements,
    # runs in a REPEATABLE READ transaction, so the envelope's counters and the page share one snapshot
    # (READ COMMITTED would give each statement its own).
    await conn.set_isolation_level(IsolationLevel.REPEATABLE_READ)
    await conn.set_read_only(True)


class PgTaskReader:
    """PostgreSQL: psycopg_pool connections in autocommit, opened on the first read.

    Opened lazily, so processes that never serve a GET (`firmscout worker`, the CLI) open no connections.
    """

    def __init__(self, url: str, *, pool_size: int) -> None:
        self._pool: AsyncConnectionPool[Conn] = AsyncConnectionPool(
            _conninfo(url),
            min_size=pool_size,
            max_size=pool_size,
            open=False,
            # prepare_threshold=0: prepare each statement on its first use on a connection, not its sixth.
            # application_name: these connections can be told apart in pg_stat_activity.
            kwargs={"autocommit": True, "prepare_threshold": 0, "application_name": APPLICATION_NAME},
            configure=_configure,
            timeout=CHECKOUT_TIMEOUT_S,
            name="firmscout-reader",
        )
        self._opened = False
        self._by_org = _sql(task_repo.scoped_view_query("", organization_id="", user_id="")[0])
        self._by_user = _sql(task_repo.scoped_view_query("", organization_id=None, user_id="")[0])
        self._page = _sql(candidate_repo.results_view_query("", offset=0, limit=1)[0])

    async def _run(self, read: Callable[[Conn], Awaitable[T]]) -> T:
        if not self._opened:
            self._opened = True
            await self._pool.open()
        for attempt in range(1, ATTEMPTS + 1):
            try:
                async with self._pool.connection() as conn:
                    return await read(conn)
            except PoolTimeout:
                raise
            except psycopg.OperationalError as exc:
                # The connection died under us (the pool drops it when it comes back closed). Idle ones
                # likely died with it, e.g. after a server restart: check them all, then read again, which
                # is safe because a read changes nothing.
                if attempt == ATTEMPTS:
                    raise
                log.warning("read failed on a lost connection (%s); checking the pool and retrying", exc)
                await self._pool.check()
        raise AssertionError("unreachable")

    def _task_query(self, task_id: str, organization_id: str | None, user_id: str) -> tuple[str, dict[str, str]]:
        _, params = task_repo.scoped_view_query(task_id, organization_id=organization_id, user_id=user_id)
        return (self._by_user if organization_id is None else self._by_org), params

    async def scoped_task(
        self, task_id: str, *, organization_id: str | None, user_id: str
    ) -> task_repo.TaskView | None:
        sql, params = self._task_query(task_id, organization_id, user_id)

        async def read(conn: Conn) -> Any:
            return await (await conn.execute(sql, params)).fetchone()

        row = await self._run(read)
        return task_repo.view_of(row) if row is not None else None

    async def scoped_results(
        self, task_id: str, *, organization_id: str | None, user_id: str, offset: int, limit: int
    ) -> ResultsView | None:
        sql, params = self._task_query(task_id, organization_id, user_id)
        _, page_params = candidate_repo.results_view_query(task_id, offset=offset, limit=limit)

        async def read(conn: Conn) -> tuple[Any, list[Any]]:
            # Pipeline mode: BEGIN, both SELECTs and COMMIT leave in one batch, one round trip in all. The
            # page is read even for a task of another organization, and then dropped unread.
            async with conn.pipeline(), conn.transaction():
                task_cur = await conn.execute(sql, params)
                page_cur = await conn.execute(self._page, page_params)
            return await task_cur.fetchone(), await page_cur.fetchall()

        row, rows = await self._run(read)
        if row is None:
            return None
        return task_repo.view_of(row), [candidate_repo.ResultView(*r) for r in rows]

    async def close(self) -> None:
        if self._opened:
            await self._pool.close()
