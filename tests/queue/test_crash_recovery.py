"""Issue: kill a worker process mid-task with SIGKILL, start another; the task completes with no duplicates."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select

from firmscout.storage.tables import Candidate, DiscoveryTask
from firmscout.tasks import accounts
from firmscout.tasks.runtime import Runtime
from firmscout.tasks.service import NewTask
from tests.factories import company, create_companies

pytestmark = pytest.mark.slow

TARGET = 200


def _spawn_worker(database_url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "FIRMSCOUT_DATABASE_URL": database_url,
        "FIRMSCOUT_SEED_BUILTIN_COMPANIES": "false",
        "FIRMSCOUT_WORKER__LEASE_S": "2",
        # On PostgreSQL the procrastinate queue serves: a worker silent for 2 s is declared dead.
        "FIRMSCOUT_QUEUE__STALLED_AFTER_S": "2",
        "FIRMSCOUT_QUEUE__HEARTBEAT_S": "0.5",
        "FIRMSCOUT_WORKER__POLL_INTERVAL_S": "0.1",
        # Small batches: many checkpoints, so the kill lands mid-task.
        "FIRMSCOUT_PIPELINE__BATCH_SIZE": "2",
    }
    return subprocess.Popen([sys.executable, "-m", "firmscout", "worker"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def _task(runtime: Runtime, task_id: str) -> DiscoveryTask:
    async with runtime.sessions() as session:
        row = await session.get(DiscoveryTask, task_id, populate_existing=True)
    assert row is not None
    return row


class TestCrashRecovery:
    async def test_sigkill_mid_task_then_restart_completes_without_duplicates(
        self, runtime: Runtime, database_url: str
    ) -> None:
        banks = [company(f"banco{i}.es", f"Banco {i}", country="Spain", industries=("Banks", "Financials"),
                         description="Spanish bank") for i in range(TARGET + 50)]
        await create_companies(runtime, banks)
        caller = await accounts.local_caller(runtime.sessions)
        task = await runtime.service.create(caller, NewTask(query="banks in Spain", desired_num_results=TARGET))

        first = _spawn_worker(database_url)
        try:
            deadline = time.monotonic() + 60
            while (await _task(runtime, task.id)).num_results < 10:
                assert first.poll() is None, "worker exited early"
                assert time.monotonic() < deadline, "worker made no progress"
                await asyncio.sleep(0.02)
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        finally:
            if first.poll() is None:
                first.kill()
        killed_at = await _task(runtime, task.id)
        assert killed_at.status == "in_progress"
        assert killed_at.num_results < TARGET, "the kill must land mid-task for this test to mean anything"

        second = _spawn_worker(database_url)
        try:
            deadline = time.monotonic() + 90
            while (await _task(runtime, task.id)).status not in ("done", "failed"):
                assert time.monotonic() < deadline, "the restarted worker did not finish the task"
                await asyncio.sleep(0.1)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(30)

        done = await _task(runtime, task.id)
        assert done.status == "done" and done.num_results == TARGET
        async with runtime.sessions() as session:
            rows = (await session.execute(select(Candidate.domain).where(Candidate.task_id == task.id))).all()
            visible = await session.scalar(select(func.count()).select_from(Candidate).where(
                Candidate.task_id == task.id, Candidate.is_high_fit.is_(True)))
        domains = [r[0] for r in rows]
        assert len(domains) == len(set(domains)), "no candidate stored twice"
        assert done.num_results_discovered == len(domains), "counters equal the stored rows"
        assert done.num_results == visible
        assert killed_at.num_results <= done.num_results
