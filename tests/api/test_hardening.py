"""Limits an exposed service needs: per-user create rate limit, body-size cap, request ids, /metrics."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from firmscout.config import Settings
from firmscout.errors import RateLimited
from firmscout.storage.db import unit_of_work
from firmscout.storage.repositories import ratelimits as ratelimit_repo
from firmscout.tasks import accounts
from firmscout.tasks.runtime import Runtime, open_runtime
from firmscout.tasks.service import CreateQuota, NewTask
from tests.factories import auth, create_token


class TestCreateBudgetInTheDatabase:
    async def test_burst_then_refill_per_user(self, runtime: Runtime) -> None:
        async def take(key: str, now: float) -> float:
            async with unit_of_work(runtime.sessions) as session:
                return await ratelimit_repo.take(session, key, now=now, per_second=1.0, burst=2)

        assert await take("ana", 100.0) == 0
        assert await take("ana", 100.0) == 0
        assert await take("ana", 100.25) == pytest.approx(0.75)
        assert await take("bob", 100.25) == 0  # budgets are per key
        assert await take("ana", 101.0) == 0
        assert await take("ana", 101.0) == pytest.approx(1.0)
        assert await take("ana", 50.0) == pytest.approx(1.0), "a clock behind the stored one earns nothing"
        assert await take("ana", 1000.0) == 0 and await take("ana", 1000.0) == 0, "refill stops at the burst"
        assert await take("ana", 1000.0) > 0

    async def test_two_api_processes_spend_from_one_budget(self, settings: Settings, runtime: Runtime) -> None:
        # A second runtime on the same database stands for another API process or machine.
        async with open_runtime(settings) as other:
            caller = await accounts.local_caller(runtime.sessions)
            quota = CreateQuota(per_minute=0.01, burst=3)
            created = await asyncio.gather(*(
                rt.service.create(caller, NewTask(query="banks"), quota=quota)
                for rt in (runtime, other, runtime, other)
            ), return_exceptions=True)
            refused = [r for r in created if isinstance(r, RateLimited)]
            assert len(refused) == 1 and refused[0].retry_after_s > 1
            assert len(await runtime.service.list(caller, limit=100, offset=0)) == 3


class TestRateLimitOverHttp:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        # A near-zero refill: at the default 1/s, spending the burst on a loaded PostgreSQL can take over a
        # second and earn a token back, and the refusal under test would not come.
        api = settings.api.model_copy(update={"creates_per_minute": 0.01})
        return settings.model_copy(update={"api": api})

    async def test_429_with_retry_after_once_the_burst_is_spent(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        token = await create_token(runtime)
        burst = runtime.settings.api.create_burst
        for _ in range(burst):
            assert (await client.post("/v1/discovery_tasks", json={"query": "banks"},
                                      headers=auth(token))).status_code == 200
        refused = await client.post("/v1/discovery_tasks", json={"query": "banks"}, headers=auth(token))
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        assert "retry" in refused.json()["detail"].lower()
        listed = (await client.get("/v1/discovery_tasks", params={"limit": 100}, headers=auth(token))).json()
        assert len(listed) == burst, "a refused create writes nothing"

    async def test_invalid_requests_do_not_spend_the_budget(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        token = await create_token(runtime)
        for _ in range(runtime.settings.api.create_burst + 5):
            await client.post("/v1/discovery_tasks", json={"query": "x", "desired_num_results": 0},
                              headers=auth(token))
        assert (await client.post("/v1/discovery_tasks", json={"query": "banks"},
                                  headers=auth(token))).status_code == 200


class TestBodyAndRequestIds:
    async def test_oversized_body_is_413(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        token = await create_token(runtime)
        huge = {"query": "x" * (runtime.settings.api.max_body_bytes + 10)}
        response = await client.post("/v1/discovery_tasks", json=huge, headers=auth(token))
        assert response.status_code == 413
        assert "bytes" in response.json()["detail"]

    async def test_every_response_carries_a_request_id(self, client: httpx.AsyncClient) -> None:
        generated = await client.get("/v1/healthcheck")
        assert len(generated.headers["x-request-id"]) == 32
        echoed = await client.get("/v1/healthcheck", headers={"X-Request-ID": "abc-123"})
        assert echoed.headers["x-request-id"] == "abc-123"


class TestMetrics:
    async def test_prometheus_text_with_tasks_by_status(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        token = await create_token(runtime)
        await client.post("/v1/discovery_tasks", json={"query": "banks"}, headers=auth(token))
        body = (await client.get("/metrics")).text
        assert 'firmscout_tasks{status="created"} 1.0' in body
        assert "firmscout_queue_depth 1.0" in body
        assert 'firmscout_http_requests_total{method="POST",route="/v1/discovery_tasks",status="200"}' in body
        # Counts of every organization together: no sample carries an organization or user label.
        labels = set(re.findall(r'[{,]([a-z_]+)="', body))
        assert not labels & {"organization", "organization_id", "org", "user", "user_id", "email", "token"}, labels

    async def test_an_operator_token_can_be_required(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        from pydantic import SecretStr

        api = runtime.settings.api.model_copy(update={"metrics_token": SecretStr("ops-secret")})
        runtime.settings = runtime.settings.model_copy(update={"api": api})
        assert (await client.get("/metrics")).status_code == 401
        assert (await client.get("/metrics", headers=auth(await create_token(runtime)))).status_code == 401
        allowed = await client.get("/metrics", headers=auth("ops-secret"))
        assert allowed.status_code == 200 and "firmscout_tasks" in allowed.text
