"""GET /v1/discovery_tasks/{id}/events: a task's live events over a real HTTP connection (uvicorn on loopback,
streaming as a proxy or browser would see it), with the worker beside it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn

from firmscout.api.app import create_app
from firmscout.config import Settings
from firmscout.tasks.runtime import Runtime
from tests.api.companies import ALL
from tests.factories import auth, create_companies, create_token, wait_for_task

URL = "/v1/discovery_tasks"


@dataclass(frozen=True)
class Sse:
    kind: str
    id: str
    data: dict[str, Any]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Quick polls keep the tests short; what is sent does not depend on the interval.
    return settings.model_copy(update={"api": settings.api.model_copy(update={"events_poll_s": 0.05})})


@pytest.fixture
async def base_url(runtime: Runtime) -> AsyncIterator[str]:
    """The app served by uvicorn on this test's event loop (httpx's ASGI transport would buffer the stream)."""
    config = uvicorn.Config(create_app(runtime), host="127.0.0.1", port=0, log_level="warning", lifespan="off",
                            timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await serving


@pytest.fixture
async def http(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as c:
        yield c


async def _worker(runtime: Runtime) -> tuple[asyncio.Event, asyncio.Task[None]]:
    from firmscout.worker import run_worker

    stop = asyncio.Event()
    return stop, asyncio.create_task(run_worker(runtime, stop))


def _parse(block: str) -> Sse | None:
    fields = dict(line.split(": ", 1) for line in block.split("\n") if not line.startswith(":"))
    if not fields:
        return None  # a comment (heartbeat)
    return Sse(fields["event"], fields["id"], json.loads(fields["data"]))


async def _events(response: httpx.Response) -> AsyncIterator[Sse]:
    buffer = ""
    async for text in response.aiter_text():
        buffer += text
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            if (event := _parse(block)) is not None:
                yield event


async def _watch(http: httpx.AsyncClient, token: str, task_id: str, last_event_id: str | None = None) -> list[Sse]:
    headers = auth(token) | ({"Last-Event-ID": last_event_id} if last_event_id else {})
    async with http.stream("GET", f"{URL}/{task_id}/events", headers=headers) as response:
        assert response.status_code == 200
        return [event async for event in _events(response)]


async def _create(http: httpx.AsyncClient, token: str, **body: Any) -> dict[str, Any]:
    response = await http.post(URL, json=body, headers=auth(token))
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()
    return created


class TestLiveTask:
    async def test_from_created_to_done_every_result_once_then_end(
        self, http: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        await create_companies(runtime, ALL)
        token = await create_token(runtime)
        task = await _create(http, token, query="banks in Spain", desired_num_results=5)
        received: list[Sse] = []
        headers = auth(token)
        async with http.stream("GET", f"{URL}/{task['id']}/events", headers=headers) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            assert response.headers["cache-control"].startswith("no-cache")
            stop, worker = None, None
            async for event in _events(response):
                received.append(event)
                if worker is None:
                    # The first event shows the task before any worker touched it; then one starts.
                    assert (event.kind, event.data["status"]) == ("status", "created")
                    stop, worker = await _worker(runtime)
        assert stop is not None and worker is not None
        stop.set()
        await worker

        statuses = [e.data["status"] for e in received if e.kind == "status"]
        assert statuses[0] == "created" and statuses[-1] == "done"
        assert statuses == sorted(statuses, key=["created", "in_progress", "done"].index)
        progress = [e.data for e in received if e.kind == "progress"]
        assert progress and progress[-1]["num_results_discovered"] > 0
        assert received[-1].kind == "end" and received[-1].data == {"id": task["id"], "status": "done"}

        results = (await http.get(f"{URL}/{task['id']}/results", headers=headers)).json()["results"]
        streamed = [e.data for e in received if e.kind == "result"]
        assert sorted(r["id"] for r in streamed) == sorted(r["id"] for r in results)
        assert len(streamed) == len(results) >= 3
        by_id = {r["id"]: r for r in results}
        assert all(r == by_id[r["id"]] for r in streamed), "each result as the results endpoint shows it"
        done = (await http.get(f"{URL}/{task['id']}", headers=headers)).json()
        assert [e for e in received if e.kind == "status"][-1].data == done

        # Ids only grow: results delivered, then events sent.
        ids = [tuple(map(int, e.id.split("."))) for e in received]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)

    async def test_reconnecting_with_last_event_id_repeats_no_result(
        self, http: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        await create_companies(runtime, ALL)
        token = await create_token(runtime)
        task = await _create(http, token, query="banks in Spain", desired_num_results=5)
        stop, worker = await _worker(runtime)
        try:
            first = await _watch(http, token, task["id"])
        finally:
            stop.set()
            await worker
        results = [e for e in first if e.kind == "result"]
        assert len(results) >= 3
        # The connection dropped just after the first result.
        again = await _watch(http, token, task["id"], last_event_id=results[0].id)
        resent = [e.data["id"] for e in again if e.kind == "result"]
        assert results[0].data["id"] not in resent
        assert sorted([results[0].data["id"], *resent]) == sorted(e.data["id"] for e in results)
        assert again[-1].kind == "end"
        assert int(again[0].id.split(".")[1]) > int(results[0].id.split(".")[1]), "ids go on growing"
        # After the last event: nothing but the task as it is and the end.
        last = await _watch(http, token, task["id"], last_event_id=first[-1].id)
        assert [e.kind for e in last] == ["status", "end"]


class TestFinishedTask:
    async def test_sends_its_results_and_end_at_once(self, http: httpx.AsyncClient, runtime: Runtime) -> None:
        await create_companies(runtime, ALL)
        token = await create_token(runtime)
        task = await _create(http, token, query="banks in Spain", desired_num_results=5)
        stop, worker = await _worker(runtime)
        try:
            await wait_for_task(http, token, task["id"])
        finally:
            stop.set()
            await worker
        received = await _watch(http, token, task["id"])
        kinds = [e.kind for e in received]
        assert kinds[0] == "status" and received[0].data["status"] == "done"
        assert kinds[1:-1] == ["result"] * (len(kinds) - 2) and len(kinds) - 2 >= 3
        assert kinds[-1] == "end"
        listed = (await http.get(f"{URL}/{task['id']}/results", headers=auth(token))).json()["results"]
        assert [e.data["id"] for e in received if e.kind == "result"] == [r["id"] for r in listed]


class TestAccess:
    async def test_another_organizations_task_is_404(self, http: httpx.AsyncClient, runtime: Runtime) -> None:
        owner = await create_token(runtime)
        other = await create_token(runtime, email="eve@example.com", org="Other")
        task = await _create(http, owner, query="banks in Spain")
        response = await http.get(f"{URL}/{task['id']}/events", headers=auth(other))
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/json")

    @pytest.mark.parametrize("task_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
    async def test_unknown_id_is_404_as_get_gives(
        self, http: httpx.AsyncClient, runtime: Runtime, task_id: str
    ) -> None:
        token = await create_token(runtime)
        got = await http.get(f"{URL}/{task_id}", headers=auth(token))
        streamed = await http.get(f"{URL}/{task_id}/events", headers=auth(token))
        assert streamed.status_code == got.status_code == 404
        assert streamed.json() == got.json()

    async def test_without_a_token_is_401(self, http: httpx.AsyncClient, runtime: Runtime) -> None:
        token = await create_token(runtime)
        task = await _create(http, token, query="banks in Spain")
        assert (await http.get(f"{URL}/{task['id']}/events")).status_code == 401
