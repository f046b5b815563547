"""A freshly migrated database per test module, on SQLite and on PostgreSQL (skipped if unreachable)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from firmscout.storage.db import create_engine, session_factory
from firmscout.storage.migrate import upgrade
from firmscout.storage.tables import Company

POSTGRES_SERVER = "postgresql://postgres@127.0.0.1:5432"
POSTGRES_ADMIN_DB = "test"


def _postgres_database(name: str) -> Iterator[str]:
    psycopg = pytest.importorskip("psycopg")
    try:
        admin = psycopg.connect(f"{POSTGRES_SERVER}/{POSTGRES_ADMIN_DB}", autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL unreachable at {POSTGRES_SERVER} ({exc.__class__.__name__}): start it to run")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"{POSTGRES_SERVER}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of an empty, migrated database, shared by the tests of one module."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("db") / "firmscout.db"
        url = f"sqlite:///{path}"
        upgrade(url)
        yield url
        return
    for url in _postgres_database(f"firmscout_t_{secrets.token_hex(6)}"):
        upgrade(url)
        yield url


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on the module's database, emptied of companies first so tests do not see each other."""
    engine = create_engine(db_url)
    factory = session_factory(engine)
    async with factory() as session, session.begin():
        await session.execute(delete(Company))
    try:
        yield factory
    finally:
        await engine.dispose()
