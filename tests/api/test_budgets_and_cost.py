"""A create's `budget`, the estimated cost at the server's prices, provider warnings and resume after
`budget_exhausted`, as the API shows them (added fields, not in the Extruct spec)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from firmscout.api.schemas import Prices, Usage
from firmscout.config import Settings
from firmscout.storage.db import read_only, unit_of_work
from firmscout.storage.repositories import tasks as task_repo
from firmscout.storage.views import TaskView
from firmscout.tasks.runtime import Runtime
from tests.factories import auth, create_token

URL = "/v1/discovery_tasks"
# $5 per 1,000 searches; $0.15 and $0.60 per million prompt and completion tokens.
PRICES = Prices(search_request_usd=0.005, input_usd_per_m=0.15, output_usd_per_m=0.60)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The suite's settings, with prices."""
    return settings.model_copy(update={
        "web": settings.web.model_copy(update={"search_price_usd": PRICES.search_request_usd}),
        "llm": settings.llm.model_copy(update={"price_input_usd_per_m": PRICES.input_usd_per_m,
                                               "price_output_usd_per_m": PRICES.output_usd_per_m}),
    })


def _spent(**counters: Any) -> TaskView:
    base = TaskView(
        id="t", created_at=datetime.now(UTC), status="done", query="q", desired_num_results=10, is_exhausted=False,
        num_results_discovered=0, num_results_enriched=0, num_results_evaluated=0, num_results=0, table_id=None,
        auto_data_sources=True, data_sources=[], criteria=[], exclude_domains=[], stop_reason="budget_exhausted",
        error=None, prompt_tokens=0, completion_tokens=0, pages_fetched=0, web_bytes=0, search_requests=0,
        candidates_removed=None,
    )
    return dataclasses.replace(base, **counters)


class TestEstimatedCost:
    def test_estimated_cost_is_null_without_prices(self) -> None:
        usage = Usage.of(_spent(search_requests=10, prompt_tokens=1000, num_results=4), Prices())
        assert (usage.estimated_cost_usd, usage.cost_per_result_usd) == (None, None)

    def test_prices_make_a_cost_per_task_and_per_result(self) -> None:
        task = _spent(search_requests=8, prompt_tokens=200_000, completion_tokens=50_000, num_results=4)
        usage = Usage.of(task, PRICES)
        assert usage.estimated_cost_usd == pytest.approx(8 * 0.005 + 0.2 * 0.15 + 0.05 * 0.60)  # 0.1
        assert usage.cost_per_result_usd == pytest.approx(0.1 / 4)

    def test_one_price_is_enough_and_no_result_has_no_cost_per_result(self) -> None:
        usage = Usage.of(_spent(search_requests=3, prompt_tokens=10**6), Prices(search_request_usd=0.01))
        assert usage.estimated_cost_usd == pytest.approx(0.03), "tokens without a price cost nothing known"
        assert usage.cost_per_result_usd is None

    async def test_the_task_shows_its_cost_at_the_servers_prices(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        token = await create_token(runtime)
        created = (await client.post(URL, json={"query": "banks in Spain"}, headers=auth(token))).json()
        assert created["usage"]["estimated_cost_usd"] == 0.0 and created["usage"]["cost_per_result_usd"] is None
        async with unit_of_work(runtime.sessions) as session:
            await task_repo.update_task(session, created["id"], search_requests=8, prompt_tokens=200_000,
                                        completion_tokens=50_000, num_results=4)
        shown = (await client.get(f"{URL}/{created['id']}", headers=auth(token))).json()["usage"]
        assert shown["estimated_cost_usd"] == pytest.approx(0.1)
        assert shown["cost_per_result_usd"] == pytest.approx(0.025)
        listed = (await client.get(URL, headers=auth(token))).json()[0]["usage"]
        assert listed == shown


class TestBudgetField:
    async def test_a_creates_budgets_are_kept_on_the_task(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        token = await create_token(runtime)
        body = {"query": "banks in Spain", "budget": {"search_requests": 3, "pages_fetched": 7, "total_tokens": 500}}
        created = await client.post(URL, json=body, headers=auth(token))
        assert created.status_code == 200, created.text
        async with read_only(runtime.sessions) as session:
            task = await task_repo.get_task(session, created.json()["id"])
        assert task is not None and (task.search_budget, task.page_budget, task.token_budget) == (3, 7, 500)

    async def test_bad_budget_total_tokens_is_a_422_naming_the_field(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        token = await create_token(runtime)
        response = await client.post(URL, json={"query": "banks", "budget": {"total_tokens": -5}}, headers=auth(token))
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "budget", "total_tokens"]


class TestResumeAfterBudget:
    async def test_resume_grants_the_budgets_again_from_where_the_task_stands(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        token = await create_token(runtime)
        task_id = (await client.post(URL, json={"query": "banks in Spain", "desired_num_results": 250},
                                     headers=auth(token))).json()["id"]
        async with unit_of_work(runtime.sessions) as session:
            await task_repo.update_task(session, task_id, status="done", stop_reason="budget_exhausted",
                                        search_requests=30, pages_fetched=400, prompt_tokens=900, completion_tokens=100)
        resumed = await client.post(f"{URL}/{task_id}/resume", json={"desired_new_results": 0}, headers=auth(token))
        assert resumed.status_code == 200, "a task at the 250-result cap but short of it can still go on"
        assert (resumed.json()["status"], resumed.json()["stop_reason"]) == ("in_progress", None)
        async with read_only(runtime.sessions) as session:
            task = await task_repo.get_task(session, task_id)
        assert task is not None
        progress = task_repo.progress_of(task)
        assert (progress.searches_spent, progress.pages_spent, progress.tokens_spent) == (0, 0, 0)
        assert resumed.json()["usage"]["total_tokens"] == 1000, "usage keeps counting what was spent"


class TestWarnings:
    async def test_provider_warnings_are_shown_each_once(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        token = await create_token(runtime)
        task_id = (await client.post(URL, json={"query": "banks in Spain"}, headers=auth(token))).json()["id"]
        notes = ["SearXNG engine 'google' did not answer: timeout", "SearXNG engine 'bing' did not answer: CAPTCHA"]
        async with unit_of_work(runtime.sessions) as session:
            await task_repo.add_warnings(session, task_id, notes)
        async with unit_of_work(runtime.sessions) as session:
            await task_repo.add_warnings(session, task_id, notes[:1])
        shown = (await client.get(f"{URL}/{task_id}", headers=auth(token))).json()
        assert shown["warnings"] == notes

    async def test_warnings_are_capped(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        token = await create_token(runtime)
        task_id = (await client.post(URL, json={"query": "banks in Spain"}, headers=auth(token))).json()["id"]
        async with unit_of_work(runtime.sessions) as session:
            await task_repo.add_warnings(session, task_id, [f"engine {i} did not answer" for i in range(30)])
        shown = (await client.get(f"{URL}/{task_id}", headers=auth(token))).json()["warnings"]
        assert shown == [f"engine {i} did not answer" for i in range(task_repo.MAX_WARNINGS)]
