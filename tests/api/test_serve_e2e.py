"""A client written only from the spec, against a real `firmscout serve` process, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, env: dict[str, str], base_url: str, process: subprocess.Popen[bytes]) -> None:
        self.env, self.base_url, self.process = env, base_url, process

    def token(self, email: str, org: str) -> str:
        run = subprocess.run([sys.executable, "-m", "firmscout", "token", "create", "--email", email, "--org", org],
                             env=self.env, capture_output=True, text=True, timeout=60, check=True)
        return run.stdout.strip().splitlines()[-1]

    def client(self, email: str, org: str) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, headers={"Authorization": f"Bearer {self.token(email, org)}"})


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    port = _free_port()
    env = {**os.environ, "FIRMSCOUT_DATABASE_URL": database_url, "FIRMSCOUT_DATA_DIR": str(tmp_path),
           "FIRMSCOUT_BOOTSTRAP_TOKEN": "false", "FIRMSCOUT_WORKER__POLL_INTERVAL_S": "0.1"}
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "firmscout", "serve", "--port", str(port)], env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    # On PostgreSQL this is the scaled-out shape: the API runs no pipeline work, a separate worker does.
    workers = ([subprocess.Popen([sys.executable, "-m", "firmscout", "worker"], env=env, stdout=log,
                                 stderr=subprocess.STDOUT)] if database_url.startswith("postgresql") else [])
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(f"{base_url}/v1/healthcheck", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not come up"
            time.sleep(0.1)
        yield Server(env, base_url, process)
        for proc in (process, *workers):
            proc.send_signal(signal.SIGTERM)
        for proc in (process, *workers):
            assert proc.wait(timeout=30) == 0, "serve and worker stop their work and exit 0 on SIGTERM"
    finally:
        for proc in (process, *workers):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        log.close()


def _poll(client: httpx.Client, task_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        task: dict[str, Any] = client.get(f"/v1/discovery_tasks/{task_id}").raise_for_status().json()
        if task["status"] in ("done", "failed"):
            return task
        assert time.monotonic() < deadline, task
        time.sleep(0.1)


def _all_results(client: httpx.Client, task_id: str, limit: int = 1) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    while True:
        page = client.get(f"/v1/discovery_tasks/{task_id}/results",
                          params={"offset": len(rows), "limit": limit}).raise_for_status().json()["results"]
        rows += page
        if len(page) < limit:
            return rows


class TestSpecClient:
    def test_create_poll_page_resume_exclude(self, server: Server) -> None:
        ana = server.client("ana@acme.com", "Acme")
        bob = server.client("bob@acme.com", "Acme")
        eve = server.client("eve@other.com", "Other")

        created = ana.post("/v1/discovery_tasks", json={"query": "banks in Spain", "desired_num_results": 2})
        assert created.status_code == 200
        task_id = created.json()["id"]
        done = _poll(ana, task_id)
        assert done["status"] == "done" and done["num_results"] == 2
        first = _all_results(ana, task_id)
        assert len(first) == 2
        for row in first:
            assert row["hq_country"] == "Spain" and 0 <= row["relevance"] <= 100
            assert all({"grade", "explanation", "sources"} <= set(s) for s in row["scores"].values())

        resumed = ana.post(f"/v1/discovery_tasks/{task_id}/resume", json={"desired_new_results": 1})
        assert resumed.status_code == 200 and resumed.json()["desired_num_results"] == 3
        assert _poll(ana, task_id)["num_results"] == 3
        after = _all_results(ana, task_id)
        assert {r["id"] for r in first} <= {r["id"] for r in after}

        follow_up = bob.post("/v1/discovery_tasks", json={"query": "banks in Spain", "exclude_task_ids": [task_id]})
        assert follow_up.status_code == 200
        assert follow_up.json()["exclude_domains"] == sorted(r["company_website"] for r in after)
        follow_done = _poll(bob, follow_up.json()["id"])
        assert not {r["company_website"] for r in _all_results(bob, follow_done["id"], 50)} & set(
            follow_done["exclude_domains"])

        assert eve.get(f"/v1/discovery_tasks/{task_id}").status_code == 404
        forbidden = eve.post("/v1/discovery_tasks", json={"query": "banks", "exclude_task_ids": [task_id]})
        assert forbidden.status_code == 403 and task_id in forbidden.json()["detail"]

    def test_bad_inputs_get_the_specs_status_and_a_clear_detail(self, server: Server) -> None:
        client = server.client("ana@acme.com", "Acme")
        cases = [
            ({"query": "banks", "desired_num_results": 0}, ["body", "desired_num_results"]),
            ({"query": "banks", "surprise": 1}, ["body", "surprise"]),
            ({"query": "banks", "exclude_domains": ["no way"]}, ["body", "exclude_domains", 0]),
        ]
        for body, loc in cases:
            response = client.post("/v1/discovery_tasks", json=body)
            assert response.status_code == 422
            assert response.json()["detail"][0]["loc"] == loc
        assert httpx.get(f"{server.base_url}/v1/discovery_tasks").status_code == 401
        missing = client.get("/v1/discovery_tasks/00000000-0000-0000-0000-000000000000")
        assert missing.status_code == 404 and missing.json()["detail"]
        assert client.get("/v1/discovery_tasks").json() == []
