"""Issue 14, webhooks: which event a finished task sends, only once, and nothing for an unfinished task."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from firmscout.api.schemas import task_render
from firmscout.config import Settings
from firmscout.storage.db import unit_of_work
from firmscout.storage.repositories import tasks as task_repo
from firmscout.tasks import webhooks
from firmscout.tasks.runtime import Runtime
from firmscout.web.webhook import WebhookSender
from tests.factories import auth, create_token
from tests.servers.webhook_receiver import WebhookReceiver

SECRET = "0123456789abcdef"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, database_url=database_url,
                    web={"allow_hosts": ["127.0.0.1"]})  # type: ignore[arg-type]


@pytest.fixture
async def sender(runtime: Runtime) -> AsyncIterator[WebhookSender]:
    hooks = WebhookSender(runtime.settings.web, runtime.settings.webhook)
    yield hooks
    await hooks.aclose()


async def _queued(client: httpx.AsyncClient, runtime: Runtime, url: str) -> str:
    """A created task (no worker here, so it stays queued) with a webhook to `url`."""
    token = await create_token(runtime)
    body = {"query": "banks in Spain", "webhook": {"url": url, "secret": SECRET}}
    response = await client.post("/v1/discovery_tasks", json=body, headers=auth(token))
    assert response.status_code == 200, response.text
    task_id: str = response.json()["id"]
    return task_id


class TestEvents:
    async def test_a_failed_task_sends_task_failed_once(
        self, client: httpx.AsyncClient, runtime: Runtime, receiver: WebhookReceiver, sender: WebhookSender
    ) -> None:
        task_id = await _queued(client, runtime, f"{receiver.base_url}/hook")
        async with unit_of_work(runtime.sessions) as session:
            await task_repo.update_task(session, task_id, status="failed", stop_reason="failed", error="boom")
        render = task_render(runtime.settings)
        await webhooks.deliver(runtime.sessions, sender, render, task_id)
        await webhooks.deliver(runtime.sessions, sender, render, task_id)  # a re-run of the job: not sent again
        assert len(receiver.received) == 1
        assert receiver.received[0].headers["x-firmscout-event"] == "task.failed"
        payload = json.loads(receiver.received[0].body)
        assert payload["event"] == "task.failed"
        assert payload["task"]["error"] == "boom" and payload["task"]["status"] == "failed"

    async def test_an_unfinished_task_sends_nothing(
        self, client: httpx.AsyncClient, runtime: Runtime, receiver: WebhookReceiver, sender: WebhookSender
    ) -> None:
        task_id = await _queued(client, runtime, f"{receiver.base_url}/hook")
        await webhooks.deliver(runtime.sessions, sender, task_render(runtime.settings), task_id)
        assert receiver.received == []
