"""PostgreSQL's read pool (storage/dialects/postgresql.py): opened on first use, and it survives terminated backends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from firmscout.config import Settings
from firmscout.storage.dialects.postgresql import READER_NAME, PostgresReader
from firmscout.tasks import accounts
from firmscout.tasks.runtime import Runtime, open_runtime
from firmscout.tasks.service import NewTask
from tests.factories import create_token


@pytest.fixture
async def pg_runtime(pg_database: str, tmp_path: Path) -> AsyncIterator[Runtime]:
    async with open_runtime(Settings(data_dir=tmp_path, database_url=pg_database)) as rt:
        yield rt


async def _reader_backends(url: str, *, terminate: bool = False) -> list[int]:
    """The pids of the reader pool's backends on this database (terminated first, with `terminate`)."""
    action = "pg_terminate_backend(pid)" if terminate else "pid"
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        rows = await (await conn.execute(
            f"SELECT {action} FROM pg_stat_activity WHERE datname = current_database() AND application_name = %s",
            (READER_NAME,),
        )).fetchall()
    return [row[0] for row in rows]


async def _caller_and_task(runtime: Runtime) -> tuple[accounts.Caller, str]:
    token = await create_token(runtime, email="ana@acme.com", org="Acme")
    caller = await accounts.authenticate(runtime.sessions, f"Bearer {token}")
    task = await runtime.service.create(caller, NewTask(query="banks in Spain"))
    return caller, task.id


class TestPool:
    async def test_opens_no_connection_before_the_first_read(self, pg_runtime: Runtime, pg_database: str) -> None:
        assert isinstance(pg_runtime.reader, PostgresReader)
        caller, task_id = await _caller_and_task(pg_runtime)
        # A process that never serves a GET (a worker, the CLI) holds no reader connection.
        assert await _reader_backends(pg_database) == []
        assert (await pg_runtime.service.get(caller, task_id)).id == task_id
        assert len(await _reader_backends(pg_database)) >= 1

    async def test_reads_go_on_after_every_backend_is_terminated(self, pg_runtime: Runtime, pg_database: str) -> None:
        caller, task_id = await _caller_and_task(pg_runtime)
        await asyncio.gather(*(pg_runtime.service.get(caller, task_id) for _ in range(30)))
        for _ in range(50):  # the pool fills up in the background
            if len(await _reader_backends(pg_database)) == pg_runtime.settings.db.read_pool_size:
                break
            await asyncio.sleep(0.05)
        killed = await _reader_backends(pg_database, terminate=True)
        assert len(killed) == pg_runtime.settings.db.read_pool_size
        # Every pooled connection is now dead; more concurrent reads than connections, task and results,
        # all succeed on replacements.
        views = await asyncio.gather(*(pg_runtime.service.get(caller, task_id) for _ in range(30)))
        pages = await asyncio.gather(*(
            pg_runtime.service.results(caller, task_id, offset=0, limit=10) for _ in range(5)
        ))
        assert {v.id for v in views} == {task_id} and {p.task.id for p in pages} == {task_id}
        assert not set(killed) & set(await _reader_backends(pg_database))

    async def test_a_read_fails_when_the_database_stays_unreachable(self, pg_database: str) -> None:
        # Nothing listens on port 1: the read gives up after its checkout timeout instead of hanging.
        reader = PostgresReader(make_url(pg_database.replace(":5432/", ":1/")), pool_size=1)
        reader._pool.timeout = 0.5
        try:
            with pytest.raises(psycopg.OperationalError):
                await reader.task("x", organization_id="o", user_id="u")
        finally:
            await reader.close()
