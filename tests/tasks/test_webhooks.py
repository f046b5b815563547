"""Issue 14, webhooks: a task with a `webhook` POSTs `task.completed` once it ends, signed with its secret,
retried on 5xx, through the web guard (loopback only when FIRMSCOUT_WEB__ALLOW_HOSTS lists it), no redirect
followed, the secret never shown."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from firmscout.api.schemas import task_render
from firmscout.config import Settings
from firmscout.tasks.runtime import Runtime
from tests.api.companies import ALL
from tests.conftest import fast_settings
from tests.factories import auth, create_companies, create_token, wait_for_task
from tests.servers.webhook_receiver import WebhookReceiver

URL = "/v1/discovery_tasks"
SECRET = "s3cret-s3cret-s3cret"


def _settings(database_url: str, tmp_path: Path, allow_hosts: list[str]) -> Settings:
    return fast_settings(database_url, tmp_path, web={"allow_hosts": allow_hosts},
                         webhook={"backoff_s": 0.01, "timeout_s": 5.0})


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return _settings(database_url, tmp_path, ["127.0.0.1"])


@pytest.fixture
async def worker(runtime: Runtime) -> AsyncIterator[None]:
    """The worker as `firmscout serve` runs it: with the API's task rendering, so webhooks are sent."""
    from firmscout.worker import run_worker

    stop = asyncio.Event()
    job = asyncio.create_task(run_worker(runtime, stop, render=task_render(runtime.settings)))
    yield
    stop.set()
    await asyncio.wait_for(job, timeout=30)


async def _run(client: httpx.AsyncClient, runtime: Runtime, url: str) -> tuple[str, dict[str, Any]]:
    """Create a small task with a webhook to `url`; wait until it ended and its webhook was settled."""
    await create_companies(runtime, ALL)
    token = await create_token(runtime)
    body = {"query": "banks in Spain", "desired_num_results": 2, "webhook": {"url": url, "secret": SECRET}}
    created = await client.post(URL, json=body, headers=auth(token))
    assert created.status_code == 200, created.text
    task = await wait_for_task(client, token, created.json()["id"])
    for _ in range(200):
        if task["webhook"]["status"] is not None:
            return token, task
        await asyncio.sleep(0.05)
        task = (await client.get(f"{URL}/{task['id']}", headers=auth(token))).json()
    raise AssertionError(f"webhook never settled: {task['webhook']}")


pytestmark = pytest.mark.usefixtures("worker")


class TestDelivery:
    async def test_one_signed_post_carrying_the_task_as_get_returns_it(
        self, client: httpx.AsyncClient, runtime: Runtime, receiver: WebhookReceiver
    ) -> None:
        _, task = await _run(client, runtime, f"{receiver.base_url}/hook?x=1")
        assert task["status"] == "done"
        assert task["webhook"] == {"url": f"{receiver.base_url}/hook?x=1", "status": "delivered", "attempts": 1}
        assert len(receiver.received) == 1
        seen = receiver.received[0]
        assert seen.path == "/hook"
        assert seen.headers["content-type"] == "application/json"
        assert seen.headers["x-firmscout-event"] == "task.completed"
        assert len(seen.headers["x-firmscout-delivery"]) == 36
        signed = seen.headers["x-firmscout-timestamp"].encode() + b"." + seen.body
        expected = hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(seen.headers["x-firmscout-signature"], f"sha256={expected}")
        payload = json.loads(seen.body)
        assert payload["event"] == "task.completed" and payload["sent_at"]
        # The body was rendered before it was sent: GET differs only in the webhook's own outcome.
        assert payload["task"]["webhook"] == {"url": task["webhook"]["url"], "status": None, "attempts": 0}
        assert {k: v for k, v in payload["task"].items() if k != "webhook"} == \
            {k: v for k, v in task.items() if k != "webhook"}

    async def test_a_resumed_task_that_ends_again_sends_again(
        self, client: httpx.AsyncClient, runtime: Runtime, receiver: WebhookReceiver
    ) -> None:
        token, task = await _run(client, runtime, f"{receiver.base_url}/hook")
        resumed = await client.post(f"{URL}/{task['id']}/resume", json={"desired_new_results": 1},
                                    headers=auth(token))
        assert resumed.status_code == 200, resumed.text
        for _ in range(200):
            if len(receiver.received) == 2:
                break
            await asyncio.sleep(0.05)
        assert len(receiver.received) == 2, "the resumed task's end is a second event"
        again = json.loads(receiver.received[1].body)["task"]
        assert again["desired_num_results"] == 3 and again["status"] == "done"

    async def test_the_secret_is_never_shown(
        self, client: httpx.AsyncClient, runtime: Runtime, receiver: WebhookReceiver
    ) -> None:
        token, task = await _run(client, runtime, f"{receiver.base_url}/hook")
        listed = await client.get(URL, headers=auth(token))
        results = await client.get(f"{URL}/{task['id']}/results", headers=auth(token))
        for text in (json.dumps(task), listed.text, results.text, receiver.received[0].body.decode()):
            assert SECRET not in text

    async def test_5xx_is_retried_until_it_passes(
        self, client: httpx.AsyncClient, runtime: Runtime, receiver: WebhookReceiver
    ) -> None:
        receiver.answers = [503, 503]
        _, task = await _run(client, runtime, f"{receiver.base_url}/hook")
        assert task["webhook"]["status"] == "delivered"
        assert task["webhook"]["attempts"] == 3
        assert len(receiver.received) == 3
        assert len({r.headers["x-firmscout-delivery"] for r in receiver.received}) == 1, "one id for every try"

    async def test_a_redirect_is_not_followed(
        self, client: httpx.AsyncClient, runtime: Runtime, receiver: WebhookReceiver
    ) -> None:
        receiver.answers = [307]
        _, task = await _run(client, runtime, f"{receiver.base_url}/hook")
        assert task["webhook"]["status"].startswith("failed: HTTP 307 redirect")
        assert task["webhook"]["attempts"] == 1
        assert [r.path for r in receiver.received] == ["/hook"]


class TestGuard:
    @pytest.fixture
    def settings(self, database_url: str, tmp_path: Path) -> Settings:
        return _settings(database_url, tmp_path, [])

    async def test_loopback_is_refused_without_allow_hosts(
        self, client: httpx.AsyncClient, runtime: Runtime, receiver: WebhookReceiver
    ) -> None:
        _, task = await _run(client, runtime, f"{receiver.base_url}/hook")
        assert task["status"] == "done"
        assert task["webhook"]["status"].startswith("failed: blocked")
        assert receiver.received == []
