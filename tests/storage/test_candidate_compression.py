"""On PostgreSQL, candidate JSON past the TOAST threshold is compressed with lz4 (migration 0007)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from firmscout.storage.db import unit_of_work
from firmscout.storage.repositories import candidates as candidate_repo
from firmscout.tasks import accounts
from firmscout.tasks.runtime import Runtime
from firmscout.tasks.service import NewTask


async def test_a_large_profile_is_stored_with_lz4(runtime: Runtime, database_url: str) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite stores JSON uncompressed")
    async with runtime.sessions() as session:
        allowed = (await session.execute(
            text("SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'")
        )).scalar_one()
    if "lz4" not in allowed:
        pytest.skip("this PostgreSQL was built without lz4")
    caller = await accounts.local_caller(runtime.sessions)
    task = await runtime.service.create(caller, NewTask(query="banks in Spain"))
    # Varied text, so it stays past the 2 kB threshold even compressed inline.
    description = " ".join(f"word{i * 7919 % 10007}" for i in range(800))
    row = {"domain": "bbva.com", "source": "extruct_db", "hit": {}, "profile": {"description": description}}
    async with unit_of_work(runtime.sessions) as session:
        await candidate_repo.insert_new(session, task.id, [row])
    async with runtime.sessions() as session:
        method = (await session.execute(
            text("SELECT pg_column_compression(profile) FROM candidate WHERE task_id = :t"), {"t": task.id}
        )).scalar_one()
    assert method == "lz4"
