"""Issue 14: the create's optional `webhook` (an added field): bad fields are a 422 naming them."""

from __future__ import annotations

from typing import Any

import httpx

from firmscout.tasks.runtime import Runtime
from tests.factories import auth, create_token

URL = "/v1/discovery_tasks"
GOOD = {"url": "https://hooks.example.com/firmscout", "secret": "0123456789abcdef"}
# Bad webhooks, as the create validation table runs them (tests/api/test_create_validation.py).
INVALID: list[tuple[str, Any, list[Any]]] = [
    ("ftp url", {**GOOD, "url": "ftp://hooks.example.com/x"}, ["body", "webhook", "url"]),
    ("relative url", {**GOOD, "url": "/hook"}, ["body", "webhook", "url"]),
    ("credentials in url", {**GOOD, "url": "https://u:p@hooks.example.com/"}, ["body", "webhook", "url"]),
    ("url too long", {**GOOD, "url": "https://example.com/" + "a" * 2048}, ["body", "webhook", "url"]),
    ("short secret", {**GOOD, "secret": "short"}, ["body", "webhook", "secret"]),
    ("long secret", {**GOOD, "secret": "s" * 257}, ["body", "webhook", "secret"]),
    ("no secret", {"url": GOOD["url"]}, ["body", "webhook", "secret"]),
    ("unknown field", {**GOOD, "events": ["task.completed"]}, ["body", "webhook", "events"]),
]


class TestWebhookFields:
    async def test_accepted_and_shown_without_its_secret(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        token = await create_token(runtime)
        response = await client.post(URL, json={"query": "banks in Spain", "webhook": GOOD}, headers=auth(token))
        assert response.status_code == 200, response.text
        assert response.json()["webhook"] == {"url": GOOD["url"], "status": None, "attempts": 0}
        got = await client.get(f"{URL}/{response.json()['id']}", headers=auth(token))
        assert GOOD["secret"] not in got.text

    async def test_a_task_without_one_shows_null(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        token = await create_token(runtime)
        response = await client.post(URL, json={"query": "banks in Spain"}, headers=auth(token))
        assert response.json()["webhook"] is None
