"""One process model per database: SQLite is served by one process; PostgreSQL by any number of `serve` and
`worker` processes (uvicorn's own --workers for several API processes on a port)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.conftest import PG_AVAILABLE
from tests.factories import cli_token

pytestmark = pytest.mark.slow


def _log_lines(path: Path) -> list[dict[str, Any]]:
    # The servers are still writing: a last line without its newline is a line being written, not a bad one.
    complete, _, _ = path.read_text().rpartition("\n")
    return [json.loads(raw) for raw in complete.splitlines() if raw.startswith("{")]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead but not yet reaped by its parent.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(")")[-1].split()[0] != "Z"


def _start(env: dict[str, str], log: Path, *args: str) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    with log.open("wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "firmscout", "serve", "--port", str(port), *args], env=env,
                                stdout=subprocess.DEVNULL, stderr=err)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, log.read_text()
        try:
            if httpx.get(f"{base}/v1/healthcheck", timeout=1).status_code == 200:
                return proc, base
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "serve did not come up"
        time.sleep(0.1)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "FIRMSCOUT_DATA_DIR": str(tmp_path), "FIRMSCOUT_BOOTSTRAP_TOKEN": "false",
           "FIRMSCOUT_WORKER__POLL_INTERVAL_S": "0.05", "FIRMSCOUT_API__CREATE_BURST": "100"}
    env.pop("FIRMSCOUT_DATABASE_URL", None)
    return env


def _firmscout(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "firmscout", *args], env=env, capture_output=True, text=True,
                          timeout=120)


def _wait_done(base: str, headers: dict[str, str], ids: list[str]) -> None:
    deadline = time.monotonic() + 60
    pending = set(ids)
    while pending:
        assert time.monotonic() < deadline, "tasks did not finish"
        for task_id in list(pending):
            # A new connection per request, so the kernel may hand it to any API process.
            task = httpx.get(f"{base}/v1/discovery_tasks/{task_id}", headers=headers).json()
            assert task["status"] != "failed", task
            if task["status"] == "done":
                pending.discard(task_id)
        time.sleep(0.02)


QUERIES = ("banks in Spain", "Japanese carmakers", "chemical companies in Germany", "US semiconductor companies")


class TestOneProcessPerSqliteFile:
    def test_a_second_server_or_worker_is_refused_and_short_commands_still_work(
        self, env: dict[str, str], tmp_path: Path
    ) -> None:
        token = cli_token(env, "ana@acme.com", "Acme")
        log = tmp_path / "serve.log"
        proc, base = _start(env, log)
        try:
            for command in (["serve", "--port", "1"], ["worker"]):
                second = _firmscout(env, *command)
                assert second.returncode == 1, second.stderr
                error = [line for line in second.stderr.splitlines() if line.strip()]
                assert len(error) == 1 and "already in use" in error[0] and "PostgreSQL" in error[0], error
            # Short commands share the file through SQLite's own locking while the server works.
            csv = tmp_path / "more.csv"
            csv.write_text("name,domain,description,country\n"
                           "Zeta Bank,zetabank.es,A retail bank,Spain\nOmega Banco,omegabanco.es,A bank,Spain\n")
            imported = _firmscout(env, "companies", "import", str(csv))
            assert imported.returncode == 0, imported.stderr
            second_token = _firmscout(env, "token", "create", "--email", "bo@acme.com", "--org", "Acme")
            assert second_token.returncode == 0, second_token.stderr
            headers = {"Authorization": f"Bearer {second_token.stdout.strip().splitlines()[-1]}"}
            created = httpx.post(f"{base}/v1/discovery_tasks", headers=headers,
                                 json={"query": "banks in Spain", "desired_num_results": 50})
            assert created.status_code == 200, created.text
            _wait_done(base, headers, [created.json()["id"]])
            results = httpx.get(f"{base}/v1/discovery_tasks/{created.json()['id']}/results?limit=250",
                                headers={"Authorization": f"Bearer {token}"}).json()["results"]
            assert {"zetabank.es", "omegabanco.es"} <= {r["company_website"] for r in results}
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(30)
        assert code == 0, log.read_text()[-2000:]
        # Once the server is gone, the file is free for the next one.
        again, _ = _start(env, log)
        again.send_signal(signal.SIGTERM)
        assert again.wait(30) == 0

    def test_several_api_processes_on_sqlite_are_refused(self, env: dict[str, str]) -> None:
        run = _firmscout(env, "serve", "--workers", "2")
        assert run.returncode == 1 and "PostgreSQL" in run.stderr, run.stderr


@pytest.mark.skipif(not PG_AVAILABLE, reason="PostgreSQL not reachable")
class TestPostgresScaleOut:
    def test_two_api_processes_and_two_workers_work_every_task_once(
        self, env: dict[str, str], tmp_path: Path, pg_database: str
    ) -> None:
        env = {**env, "FIRMSCOUT_DATABASE_URL": pg_database}
        token = cli_token(env, "ana@acme.com", "Acme")
        log = tmp_path / "serve.log"
        proc, base = _start(env, log, "--workers", "2")
        worker_logs = [tmp_path / f"worker{i}.log" for i in range(2)]
        workers = [subprocess.Popen([sys.executable, "-m", "firmscout", "worker"], env=env,
                                    stdout=subprocess.DEVNULL, stderr=path.open("wb")) for path in worker_logs]
        children: set[int] = set()
        try:
            headers = {"Authorization": f"Bearer {token}"}
            ids = [httpx.post(f"{base}/v1/discovery_tasks", headers=headers,
                              json={"query": q, "desired_num_results": 5}).json()["id"] for q in QUERIES]
            _wait_done(base, headers, ids)
            access = [line for line in _log_lines(log) if line["logger"] == "firmscout.access"]
            for _ in range(200):
                if len({line["pid"] for line in access}) >= 2:
                    break
                httpx.get(f"{base}/v1/discovery_tasks/{ids[0]}", headers=headers)
                access = [line for line in _log_lines(log) if line["logger"] == "firmscout.access"]
            children = {line["pid"] for line in access}
            assert proc.pid not in children and len(children) == 2, children
            assert all(line["request_id"] for line in access)
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(30)
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
                worker.wait(30)
        assert code == 0, log.read_text()[-2000:]
        assert children and not any(_alive(pid) for pid in children)
        with psycopg.connect(pg_database) as db:
            rows = db.execute("SELECT status, attempts FROM discovery_task").fetchall()
        assert rows == [("done", 0)] * len(QUERIES)


class TestFreezeHeap:
    def test_start_up_objects_leave_the_collectors_generations(self) -> None:
        import gc

        from firmscout.commands.api_server import freeze_heap

        kept = [object() for _ in range(10)]
        try:
            freeze_heap()
            # Frozen objects are in the permanent generation: full collections no longer walk them.
            assert gc.get_freeze_count() >= len(kept)
            assert not any(o is kept for o in gc.get_objects(generation=2))
        finally:
            gc.unfreeze()
