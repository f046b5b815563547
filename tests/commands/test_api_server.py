"""`serve --workers N`: N real API processes on one port, the pipeline worker once, SIGTERM stops them all."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

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


class TestServeWorkers:
    def test_two_processes_serve_and_the_pipeline_runs_once(self, env: dict[str, str], tmp_path: Path) -> None:
        token = cli_token(env, "ana@acme.com", "Acme")
        log = tmp_path / "serve.log"
        proc, base = _start(env, log, "--workers", "2")
        children: set[int] = set()
        try:
            headers = {"Authorization": f"Bearer {token}"}
            ids = [httpx.post(f"{base}/v1/discovery_tasks", headers=headers,
                              json={"query": q, "desired_num_results": 5}).json()["id"]
                   for q in ("banks in Spain", "Japanese carmakers", "chemical companies in Germany",
                             "US semiconductor companies")]
            deadline = time.monotonic() + 60
            pending = set(ids)
            while pending:
                assert time.monotonic() < deadline, "tasks did not finish"
                for task_id in list(pending):
                    # A new connection per request, so the kernel may hand it to either process.
                    task = httpx.get(f"{base}/v1/discovery_tasks/{task_id}", headers=headers).json()
                    assert task["status"] != "failed", task
                    if task["status"] == "done":
                        pending.discard(task_id)
                time.sleep(0.02)
            access = [line for line in _log_lines(log) if line["logger"] == "firmscout.access"]
            for _ in range(200):
                if len({line["pid"] for line in access}) >= 2:
                    break
                httpx.get(f"{base}/v1/discovery_tasks/{ids[0]}", headers=headers)
                access = [line for line in _log_lines(log) if line["logger"] == "firmscout.access"]
            pids = {line["pid"] for line in access}
            assert proc.pid in pids and len(pids) == 2, pids
            children = pids - {proc.pid}
            assert all(line["request_id"] for line in access)
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(30)
        assert code == 0, log.read_text()[-2000:]
        # SIGTERM of the parent stopped the child too.
        assert children and not any(_alive(pid) for pid in children)
        lines = _log_lines(log)
        workers = [line for line in lines if "pipeline worker" in line.get("message", "")]
        assert [line["pid"] for line in workers] == [proc.pid]
        with sqlite3.connect(tmp_path / "firmscout.db") as db:
            rows = db.execute("SELECT status, lease_owner FROM discovery_task").fetchall()
        assert rows == [("done", None)] * 4

    def test_children_stop_when_the_parent_is_killed(self, env: dict[str, str], tmp_path: Path) -> None:
        log = tmp_path / "serve.log"
        proc, _ = _start(env, log, "--workers", "2", "--no-worker")
        deadline = time.monotonic() + 30
        children: list[int] = []
        while not children:
            assert time.monotonic() < deadline, "no child process"
            out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(proc.pid)], capture_output=True, text=True)
            children = [int(p) for p in out.stdout.split()
                        if "spawn_main" in Path(f"/proc/{p.strip()}/cmdline").read_text(errors="replace")]
            time.sleep(0.1)
        proc.kill()
        proc.wait()
        deadline = time.monotonic() + 15
        while any(_alive(pid) for pid in children):
            assert time.monotonic() < deadline, "orphaned API process kept running"
            time.sleep(0.2)


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
