"""SQLite as a first-class backend: WAL, foreign keys, and readers that never wait for a writer."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import func, select, text

from firmscout.storage.db import async_url, create_engine, session_factory, sync_url, unit_of_work
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
