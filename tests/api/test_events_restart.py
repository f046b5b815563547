"""GET /v1/discovery_tasks/{id}/events from a real `firmscout serve` on PostgreSQL while the separate
`firmscout worker` running the task is SIGKILLed and replaced: the open stream (the API process lives on) goes
on to the end, and a client that reconnects with `Last-Event-ID` gets only what its docstring promises."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import Any

import httpx
import pytest

from firmscout.tasks.runtime import Runtime
from tests.factories import auth, company, create_companies, create_token, start_serve, stop

pytestmark = pytest.mark.slow

URL = "/v1/discovery_tasks"
# Many results, one checkpoint each (FIRMSCOUT_PIPELINE__BATCH_SIZE=1), so a kill after the first result lands
# mid-task (about 2 s of work left on an idle machine, which slows with the worker under load); one results page.
TARGET = 200
STATUS_ORDER = ("created", "in_progress", "done")
# Read timeout of a stream: covers a worker start and the hand-over of a dead worker's job on a loaded machine.
READ_TIMEOUT_S = 90.0


@dataclass(frozen=True)
class Sse:
    kind: str
    id: str
    data: dict[str, Any]

    @property
    def cursor(self) -> tuple[int, int]:
        """The id `<k>.<n>`: results delivered and events sent."""
        k, n = self.id.split(".")
        return int(k), int(n)


async def sse_events(response: httpx.Response) -> AsyncIterator[Sse]:
    """Events as an `EventSource` parses the stream (HTML "Server-sent events" §9.2.6): a blank line ends an
    event, `:` starts a comment, one space after the field's colon is dropped, `data:` lines join with a
    newline, and the last `id:` seen stays the event id until another one comes."""
    kind, data, last_id = "", list[str](), ""
    async for line in response.aiter_lines():  # splits on CRLF, LF and CR, as the format allows
        if not line:
            if data:
                yield Sse(kind or "message", last_id, json.loads("\n".join(data)))
            kind, data = "", []
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "event":
                kind = value
            elif name == "data":
                data.append(value)
            elif name == "id" and "\0" not in value:
                last_id = value


@dataclass
class Deployment:
    """`firmscout serve` (the API alone) and the `firmscout worker` processes beside it, all on one database."""

    env: dict[str, str]
    log: Path
    api: subprocess.Popen[bytes]
    base_url: str
    token: str
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start_worker(self) -> subprocess.Popen[bytes]:
        with self.log.open("ab") as log:
            worker = subprocess.Popen([sys.executable, "-m", "firmscout", "worker"], env=self.env,
                                      stdout=subprocess.DEVNULL, stderr=log)
        self.workers.append(worker)
        return worker

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, headers=auth(self.token),
                                 timeout=httpx.Timeout(30.0, read=READ_TIMEOUT_S))


@pytest.fixture(params=["postgresql"])
def database_url(pg_database: str) -> str:
    # Only PostgreSQL runs the API and the worker as separate processes.
    return pg_database


@pytest.fixture
async def deployment(runtime: Runtime, database_url: str, tmp_path: Path) -> AsyncIterator[Deployment]:
    await create_companies(runtime, [
        company(f"banco{i}.es", f"Banco {i}", country="Spain", industries=("Banks", "Financials"),
                description="Spanish bank") for i in range(TARGET + 50)
    ])
    env = {
        **os.environ, "FIRMSCOUT_DATABASE_URL": database_url, "FIRMSCOUT_DATA_DIR": str(tmp_path),
        "FIRMSCOUT_BOOTSTRAP_TOKEN": "false", "FIRMSCOUT_SEED_BUILTIN_COMPANIES": "false",
        "FIRMSCOUT_SEMANTIC__ENABLED": "off", "FIRMSCOUT_API__EVENTS_POLL_S": "0.05",
        "FIRMSCOUT_WORKER__POLL_INTERVAL_S": "0.1",
        # A worker silent for 2 s is dead: the new one takes its job over soon after.
        "FIRMSCOUT_QUEUE__STALLED_AFTER_S": "2", "FIRMSCOUT_QUEUE__HEARTBEAT_S": "0.5",
        "FIRMSCOUT_PIPELINE__BATCH_SIZE": "1",
    }
    log = tmp_path / "processes.log"
    token = await create_token(runtime)
    api, base_url = start_serve(env, "--no-worker", log=log)
    running = Deployment(env, log, api, base_url, token)
    try:
        yield running
    finally:
        for proc in (api, *running.workers):
            if proc.poll() is None:
                stop(proc)


def _kill(worker: subprocess.Popen[bytes]) -> None:
    worker.send_signal(signal.SIGKILL)
    worker.wait(30)


async def _create(http: httpx.AsyncClient) -> dict[str, Any]:
    response = await http.post(URL, json={"query": "banks in Spain", "desired_num_results": TARGET})
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    return created


async def _task(http: httpx.AsyncClient, task_id: str) -> dict[str, Any]:
    task: dict[str, Any] = (await http.get(f"{URL}/{task_id}")).raise_for_status().json()
    return task


async def _result_ids(http: httpx.AsyncClient, task_id: str) -> list[str]:
    rows: list[dict[str, Any]] = []
    while True:
        page = (await http.get(f"{URL}/{task_id}/results", params={"offset": len(rows), "limit": 250})
                ).raise_for_status().json()["results"]
        rows += page
        if len(page) < 250:
            return [r["id"] for r in rows]


async def _killed_mid_task(http: httpx.AsyncClient, task_id: str, worker: subprocess.Popen[bytes]) -> int:
    """SIGKILL the worker and check the task was cut off mid-run; the task's num_results then."""
    _kill(worker)
    task = await _task(http, task_id)
    assert task["status"] == "in_progress", "the kill must land mid-task for this test to mean anything"
    assert 0 < task["num_results"] < TARGET, task
    return int(task["num_results"])


def _results(events: list[Sse]) -> list[str]:
    return [e.data["id"] for e in events if e.kind == "result"]


def _check_statuses(events: list[Sse]) -> None:
    statuses = [e.data["status"] for e in events if e.kind == "status"]
    assert statuses == sorted(statuses, key=STATUS_ORDER.index), statuses
    assert statuses[-1] == "done"


def _check_ids(events: list[Sse]) -> None:
    """Ids `<k>.<n>` only grow: `n` counts every event, across reconnects too, and `k` never falls."""
    assert [e.cursor[1] for e in events] == list(range(1, len(events) + 1))
    results_delivered = [e.cursor[0] for e in events]
    assert results_delivered == sorted(results_delivered)


class TestWorkerRestartUnderAnOpenStream:
    async def test_the_stream_goes_on_to_every_result_once_then_end(self, deployment: Deployment) -> None:
        async with deployment.client() as http:
            task = await _create(http)
            received: list[Sse] = []
            first: subprocess.Popen[bytes] | None = None
            killed_at: int | None = None
            async with http.stream("GET", f"{URL}/{task['id']}/events") as response:
                assert response.status_code == 200
                assert response.headers["content-type"].startswith("text/event-stream")
                async for event in sse_events(response):
                    received.append(event)
                    if first is None:
                        # The stream shows the task before any worker touched it; then one starts.
                        assert (event.kind, event.data["status"]) == ("status", "created")
                        first = deployment.start_worker()
                    elif event.kind == "result" and killed_at is None:
                        killed_at = await _killed_mid_task(http, task["id"], first)
                        deployment.start_worker()
                # The same connection lasted through the restart: the API process never stopped.
                assert deployment.api.poll() is None
            assert killed_at is not None, "the stream sent no result before the end"

            # The stream only ends after `end`: results and statuses of both workers came through it.
            assert received[-1].kind == "end" and received[-1].data == {"id": task["id"], "status": "done"}
            assert [e.kind for e in received].count("end") == 1
            streamed = _results(received)
            assert [rid for rid, n in Counter(streamed).items() if n > 1] == [], "every result exactly once"
            listed = await _result_ids(http, task["id"])
            assert set(streamed) == set(listed) and len(listed) == TARGET
            _check_statuses(received)
            assert received[0].data["status"] == "created"
            counted = [e.data["num_results"] for e in received if e.kind in ("status", "progress")]
            assert counted == sorted(counted), "the restart loses no counted result"
            done = await _task(http, task["id"])
            assert done["status"] == "done" and done["num_results"] == TARGET
            assert [e for e in received if e.kind == "status"][-1].data == done
            _check_ids(received)
            assert [e.cursor[0] for e in received] == list(accumulate(e.kind == "result" for e in received))

    async def test_reconnecting_with_last_event_id_after_the_restart(self, deployment: Deployment) -> None:
        async with deployment.client() as http:
            task = await _create(http)
            first = deployment.start_worker()
            before: list[Sse] = []
            async with http.stream("GET", f"{URL}/{task['id']}/events") as response:
                assert response.status_code == 200
                async for event in sse_events(response):
                    before.append(event)
                    if event.kind == "result":
                        break  # the client goes away mid-task, just after its first result
            killed_at = await _killed_mid_task(http, task["id"], first)
            deployment.start_worker()
            # Reconnect once the new worker has added results the client has not seen.
            deadline = asyncio.get_running_loop().time() + READ_TIMEOUT_S
            while (await _task(http, task["id"]))["num_results"] <= killed_at:
                assert asyncio.get_running_loop().time() < deadline, "the restarted worker added no result"
                await asyncio.sleep(0.1)

            last_id = before[-1].id
            after: list[Sse] = []
            async with http.stream("GET", f"{URL}/{task['id']}/events",
                                   headers={"Last-Event-ID": last_id}) as response:
                assert response.status_code == 200
                after = [event async for event in sse_events(response)]

            assert after[-1].kind == "end" and after[-1].data == {"id": task["id"], "status": "done"}
            assert after[0].kind == "status", "every connection starts with the task as it is now"
            _check_statuses(before + after)
            _check_ids(before + after)
            delivered, resent = _results(before), _results(after)
            assert before[-1].cursor[0] == len(delivered), "k of `k.n` counts the results delivered"
            assert len(set(delivered)) == len(delivered) and len(set(resent)) == len(resent)
            listed = await _result_ids(http, task["id"])
            assert set(delivered) | set(resent) <= set(listed) and len(listed) == TARGET
            # The reconnect counts the list's first k results as delivered and sends every other one once: when
            # a later result outranked one the client had, it repeats that one and skips another, no more.
            repeated = set(delivered) & set(resent)
            skipped = set(listed) - set(delivered) - set(resent)
            assert len(repeated) == len(skipped), (repeated, skipped)
            assert len(delivered) + len(resent) == TARGET == after[-1].cursor[0]
            if listed[: len(delivered)] == delivered:
                # The exact case: the client had the head of the list (so it had it at the reconnect too: a
                # result never moves below one ranked after it), and the reconnect sent precisely the rest.
                assert not repeated and set(resent) == set(listed[len(delivered):])
