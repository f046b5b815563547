"""SQLite as a first-class backend (WAL, foreign keys, readers that never wait for a writer), and read sessions."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiosqlite
import pytest
from sqlalchemy import Connection, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from firmscout.storage.db import async_url, create_engine, read_only, session_factory, sync_url, unit_of_work
from firmscout.storage.migrate import upgrade
from firmscout.storage.tables import Organization


class TestDriverChoice:
    def test_plain_urls_get_async_drivers(self) -> None:
        assert async_url("sqlite:///x.db").drivername == "sqlite+aiosqlite"
        assert async_url("postgresql://postgres@127.0.0.1:5432/test").drivername == "postgresql+psycopg"
        assert sync_url("sqlite:///x.db").drivername == "sqlite"


class TestSqlitePragmas:
    async def test_wal_and_foreign_keys_are_on(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 'f.db'}"
        upgrade(url)
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
                assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
                assert (await conn.execute(text("PRAGMA synchronous"))).scalar() == 1  # NORMAL
        finally:
            await engine.dispose()

    async def test_reader_sees_last_commit_while_a_writer_holds_the_lock(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 'f.db'}"
        upgrade(url)
        engine = create_engine(url)
        sessions = session_factory(engine)

        async def count() -> int:
            async with sessions() as session:
                return int(await session.scalar(select(func.count()).select_from(Organization)) or 0)

        try:
            async with unit_of_work(sessions) as writer:
                writer.add(Organization(name="Acme", slug="acme"))
                await writer.flush()
                # The guard only turns a hang into a failure; a deferred reader answers at once under WAL.
                assert await asyncio.wait_for(count(), timeout=10) == 0
            assert await count() == 1
        finally:
            await engine.dispose()


class TestFirstStart:
    async def test_a_server_starts_where_the_data_directory_does_not_exist_yet(self, tmp_path: Path) -> None:
        from firmscout.config import Settings
        from firmscout.tasks.runtime import open_runtime

        data = tmp_path / "not" / "there"
        async with open_runtime(Settings(data_dir=data), own=True) as runtime:
            assert runtime.dialect.embedded
        assert (data / "firmscout.db").is_file()


class TestSqliteWriteTurns:
    async def test_a_second_writer_waits_on_the_event_loop_without_a_connection(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 'f.db'}"
        upgrade(url)
        engine = create_engine(url)
        sessions = session_factory(engine)
        order: list[str] = []
        first_in, release = asyncio.Event(), asyncio.Event()

        async def first() -> None:
            async with unit_of_work(sessions) as session:
                session.add(Organization(name="Acme", slug="acme"))
                order.append("first begins")
                first_in.set()
                await release.wait()
            order.append("first committed")

        async def second() -> None:
            await first_in.wait()
            async with unit_of_work(sessions) as session:
                order.append("second begins")
                session.add(Organization(name="Beta", slug="beta"))

        try:
            jobs = [asyncio.create_task(first()), asyncio.create_task(second())]
            await first_in.wait()
            await asyncio.sleep(0.2)
            # Not in SQLite's busy handler on a pooled connection: queued in this process, holding nothing.
            assert order == ["first begins"] and engine.pool.checkedout() == 1  # type: ignore[attr-defined]
            release.set()
            await asyncio.wait_for(asyncio.gather(*jobs), timeout=10)
            assert order == ["first begins", "first committed", "second begins"]
        finally:
            await engine.dispose()


class TestSqlitePoolReset:
    """A SQLite connection goes back to the pool without a ROLLBACK after its transaction ended, and with one
    while a transaction is still open (`_on_reset` in storage/db.py)."""

    @pytest.fixture
    def rollbacks(self, monkeypatch: pytest.MonkeyPatch) -> list[int]:
        """Counts the ROLLBACKs that reach the driver (each one a trip to aiosqlite's thread)."""
        sent: list[int] = []
        rollback = aiosqlite.Connection.rollback

        async def counted(conn: aiosqlite.Connection) -> None:
            sent.append(1)
            await rollback(conn)

        monkeypatch.setattr(aiosqlite.Connection, "rollback", counted)
        return sent

    async def test_no_rollback_is_sent_after_a_commit(self, tmp_path: Path, rollbacks: list[int]) -> None:
        url = f"sqlite:///{tmp_path / 'f.db'}"
        upgrade(url)
        engine = create_engine(url)
        sessions = session_factory(engine)
        try:
            async with engine.connect():
                pass  # SQLAlchemy's first connect initialises the dialect and rolls back once, by design
            rollbacks.clear()
            async with unit_of_work(sessions) as writer:
                writer.add(Organization(name="Acme", slug="acme"))
            async with read_only(sessions) as reader:
                assert await reader.scalar(select(func.count()).select_from(Organization)) == 1
            assert rollbacks == []
        finally:
            await engine.dispose()

    async def test_a_transaction_left_open_is_rolled_back_on_return(self, tmp_path: Path,
                                                                     rollbacks: list[int]) -> None:
        url = f"sqlite:///{tmp_path / 'f.db'}"
        upgrade(url)
        engine = create_engine(url)

        def begin_and_write_behind_sqlalchemys_back(conn: Connection) -> None:
            # As code that forgets to end its transaction would: only the pool's reset stands between it and
            # the connection's next user.
            cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            cursor.execute("BEGIN IMMEDIATE")
            cursor.execute("INSERT INTO organization (id, name, slug, is_active, created_at) "
                           "VALUES ('o1', 'Left open', 'left-open', 1, '2026-01-01')")
            cursor.close()

        try:
            async with engine.connect():
                pass  # SQLAlchemy's first connect initialises the dialect and rolls back once, by design
            rollbacks.clear()
            async with engine.connect() as conn:
                await conn.run_sync(begin_and_write_behind_sqlalchemys_back)
            assert rollbacks == [1]
            async with engine.connect() as conn:
                assert (await conn.execute(select(func.count()).select_from(Organization))).scalar() == 0
            # The write lock went with the transaction: a writer gets it at once.
            async with asyncio.timeout(10), unit_of_work(session_factory(engine)) as writer:
                writer.add(Organization(name="Acme", slug="acme"))
        finally:
            await engine.dispose()


class TestReadOnlySessions:
    """Reads end with COMMIT, so PostgreSQL keeps the statements psycopg prepared on the connection."""

    async def test_a_statement_read_again_and_again_gets_prepared(self, sessions: async_sessionmaker[AsyncSession],
                                                                  db_url: str) -> None:
        if db_url.startswith("sqlite"):
            pytest.skip("prepared statements are PostgreSQL's (psycopg prepares on a statement's fifth run)")
        probe = select(func.count()).select_from(Organization).where(Organization.slug == "no-such-org")
        prepared: list[str] = []
        for _ in range(8):  # the pool may hand out a connection or two; each must see the statement 5 times
            async with read_only(sessions) as session:
                assert await session.scalar(probe) == 0
                prepared = list((await session.execute(text("SELECT statement FROM pg_prepared_statements"))
                                 ).scalars())
            if any("organization" in s for s in prepared):
                break
        assert any("organization" in s for s in prepared), prepared

    async def test_an_error_inside_rolls_back(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        with pytest.raises(RuntimeError):
            async with read_only(sessions) as session:
                await session.execute(text("SELECT 1"))
                raise RuntimeError("boom")
        async with read_only(sessions) as session:  # the connection went back to the pool clean
            assert await session.scalar(text("SELECT 1")) == 1
