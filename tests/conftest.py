"""Shared fixtures: a fresh migrated database per test (SQLite and PostgreSQL), a runtime, an API client."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from firmscout.config import Settings
from firmscout.storage import migrate
from firmscout.storage.db import create_engine, session_factory, unit_of_work
from firmscout.storage.tables import Company
from firmscout.tasks.runtime import Runtime, open_runtime

# In CI every hypothesis-driven test (properties, schemathesis, the state machine) replays the same
# examples, so a red run is reproducible and a green one is not luck; locally they explore afresh.
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")

PG_ADMIN_URL = os.environ.get("FIRMSCOUT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _pg_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            pass
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=2):
            return True
    except (OSError, psycopg.Error):
        return False


PG_AVAILABLE = _pg_reachable()


def _pg_url(dbname: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + dbname


def _pg_admin(sql: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    if not PG_AVAILABLE:
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}")
    name = f"firmscout_tpl_{uuid.uuid4().hex[:8]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    migrate.upgrade(_pg_url(name))
    yield name
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database for one test, copied from a template made once per session."""
    if request.param == "sqlite":
        target = tmp_path / "firmscout.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        yield f"sqlite:///{target}"
        return
    yield request.getfixturevalue("pg_database")


@pytest.fixture
def pg_database(pg_template: str) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for one test (skipped when no server is reachable)."""
    name = f"firmscout_t_{uuid.uuid4().hex[:10]}"
    _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    try:
        yield _pg_url(name)
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fast_settings(database_url: str, tmp_path: Path, **sections: object) -> Settings:
    """Settings with a quick worker and queue, for tests; `sections` adds or replaces nested sections."""
    quick: dict[str, object] = {
        "worker": {"poll_interval_s": 0.05, "lease_s": 2.0},
        "queue": {"stalled_after_s": 2.0, "heartbeat_s": 0.5, "shutdown_grace_s": 5.0},
        "pipeline": {"batch_size": 10},
    }
    return Settings(data_dir=tmp_path, database_url=database_url, **(quick | sections))  # type: ignore[arg-type]


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return fast_settings(database_url, tmp_path)


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    async with open_runtime(settings) as rt:
        yield rt


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    from firmscout.api.app import create_app

    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://firmscout.test") as c:
        yield c


@pytest.fixture
async def worker(runtime: Runtime) -> AsyncIterator[None]:
    """An in-process worker running beside the test, as `firmscout serve` runs one beside the API."""
    from firmscout.worker import run_worker

    stop = asyncio.Event()
    job = asyncio.create_task(run_worker(runtime, stop))
    yield
    stop.set()
    await asyncio.wait_for(job, timeout=30)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database shared by the tests of one module (for tests that only need companies)."""
    if request.param == "sqlite":
        target = tmp_path_factory.mktemp("db") / "firmscout.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        yield f"sqlite:///{target}"
        return
    template = request.getfixturevalue("pg_template")
    name = f"firmscout_m_{uuid.uuid4().hex[:10]}"
    _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    try:
        yield _pg_url(name)
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on the module's database, emptied of companies first so tests do not see each other."""
    engine = create_engine(db_url)
    factory = session_factory(engine)
    async with unit_of_work(factory) as session:
        await session.execute(delete(Company))
    try:
        yield factory
    finally:
        await engine.dispose()
