"""Scale-out fault test on the real PostgreSQL: three worker processes, thirty concurrent tasks, a worker
SIGKILLed mid-run and restarted, every server connection terminated once. Afterwards every task is done,
no result is missing or stored twice, and the counters equal the stored rows."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import psycopg
import pytest
from sqlalchemy import func, select

from firmscout.storage.tables import Candidate, DiscoveryTask
from firmscout.tasks import accounts
from firmscout.tasks.runtime import Runtime
from firmscout.tasks.service import NewTask
from tests.factories import company, create_companies

pytestmark = pytest.mark.slow
TASKS = 30
TARGET = 12


@pytest.fixture(params=["postgresql"])
def database_url(request: pytest.FixtureRequest, pg_database: str) -> str:
    return pg_database


def _worker(database_url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "FIRMSCOUT_DATABASE_URL": database_url, "FIRMSCOUT_SEED_BUILTIN_COMPANIES": "false",
           "FIRMSCOUT_QUEUE__STALLED_AFTER_S": "2",
           "FIRMSCOUT_QUEUE__HEARTBEAT_S": "0.5", "FIRMSCOUT_WORKER__MAX_ATTEMPTS": "20",
           "FIRMSCOUT_WORKER__POLL_INTERVAL_S": "0.05", "FIRMSCOUT_PIPELINE__BATCH_SIZE": "2"}
    return subprocess.Popen([sys.executable, "-m", "firmscout", "worker"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _terminate_backends(database_url: str) -> int:
    admin = database_url.rsplit("/", 1)[0] + "/test"
    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(admin, autocommit=True) as conn:
        rows = conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                            (name,)).fetchall()
    return len(rows)


async def _statuses(runtime: Runtime, ids: list[str]) -> dict[str, int]:
    async with runtime.sessions() as session:
        rows = (await session.execute(select(DiscoveryTask.status, func.count()).where(
            DiscoveryTask.id.in_(ids)).group_by(DiscoveryTask.status))).all()
    return {status: n for status, n in rows}


class TestWorkersUnderFaults:
    async def test_kill_a_worker_and_drop_connections_then_everything_completes(
        self, runtime: Runtime, database_url: str
    ) -> None:
        await create_companies(runtime, [
            company(f"banco{i}.es", f"Banco {i}", country="Spain", industries=("Banks",)) for i in range(60)
        ])
        caller = await accounts.local_caller(runtime.sessions)
        ids = [(await runtime.service.create(caller, NewTask(query="banks in Spain", desired_num_results=TARGET))).id
               for _ in range(TASKS)]
        workers = [_worker(database_url) for _ in range(3)]
        try:
            deadline = time.monotonic() + 60
            while (await _statuses(runtime, ids)).get("done", 0) < 3:
                assert time.monotonic() < deadline, "workers made no progress"
                await asyncio.sleep(0.05)
            workers[0].send_signal(signal.SIGKILL)
            workers[0].wait(10)
            workers[0] = _worker(database_url)
            await asyncio.sleep(0.3)
            assert _terminate_backends(database_url) > 0
            deadline = time.monotonic() + 120
            while (await _statuses(runtime, ids)).get("done", 0) < TASKS:
                statuses = await _statuses(runtime, ids)
                assert statuses.get("failed", 0) == 0, statuses
                assert time.monotonic() < deadline, f"not all tasks finished: {statuses}"
                await asyncio.sleep(0.2)
        finally:
            for proc in workers:
                proc.send_signal(signal.SIGTERM)
            for proc in workers:
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()

        async with runtime.sessions() as session:
            tasks = (await session.scalars(select(DiscoveryTask).where(DiscoveryTask.id.in_(ids)))).all()
            for task in tasks:
                rows = (await session.execute(select(Candidate.domain, Candidate.stage, Candidate.is_high_fit).where(
                    Candidate.task_id == task.id))).all()
                domains = [r.domain for r in rows]
                assert len(domains) == len(set(domains))
                assert task.num_results == TARGET == sum(1 for r in rows if r.stage == "evaluated" and r.is_high_fit)
                assert task.num_results_discovered == len(rows)
                assert task.num_results_evaluated == sum(1 for r in rows if r.stage == "evaluated")
