"""Spec §3.1 and decisions 1–4, 10, 11: what create rejects, with which status, and that nothing is written."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from firmscout.tasks.runtime import Runtime
from tests.api.test_webhook_fields import INVALID as WEBHOOKS_INVALID
from tests.factories import auth, create_token

URL = "/v1/discovery_tasks"


async def _post(client: httpx.AsyncClient, token: str, body: Any) -> httpx.Response:
    return await client.post(URL, json=body, headers=auth(token))


async def _assert_nothing_created(client: httpx.AsyncClient, token: str) -> None:
    assert (await client.get(URL, headers=auth(token))).json() == []


class TestCreateDefaults:
    async def test_minimal_create_returns_task_with_defaults(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        token = await create_token(runtime)
        response = await _post(client, token, {"query": "banks in Spain"})
        assert response.status_code == 200
        task = response.json()
        uuid.UUID(task["id"])
        assert task["status"] == "created"
        assert task["query"] == "banks in Spain"
        assert task["desired_num_results"] == 100
        assert task["is_exhausted"] is False
        assert task["auto_data_sources"] is True
        assert task["data_sources"] == ["extruct_db"]
        assert task["exclude_domains"] == []
        # Inferred criteria are on the task from the start, exactly like user-given ones.
        assert [c["key"] for c in task["criteria"]] == ["industry_focus", "geography"]
        assert task["table_id"] is None
        assert task["stop_reason"] is None
        assert task["usage"] == {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0, "pages_fetched": 0,
                                 "bytes_fetched": 0, "search_requests": 0,
                                 "estimated_cost_usd": None, "cost_per_result_usd": None}, "no price set: no cost"
        assert task["warnings"] == []
        for counter in ("num_results_discovered", "num_results_enriched", "num_results_evaluated", "num_results"):
            assert task[counter] == 0
        assert task["created_at"].endswith(("Z", "+00:00"))

    async def test_exclude_domains_are_normalised_deduplicated_and_sorted(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        token = await create_token(runtime)
        body = {"query": "banks", "exclude_domains": ["https://www.Acme.com/about", "blog.acme.co.uk",
                                                      "acme.com", "stripe.com", "https://blog.stripe.com/x"]}
        task = (await _post(client, token, body)).json()
        assert task["exclude_domains"] == ["acme.co.uk", "acme.com", "stripe.com"]

    async def test_company_db_alias_and_legacy_notify_are_accepted(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        token = await create_token(runtime)
        body = {"query": "banks", "auto_data_sources": False, "data_sources": ["company_db"], "notify": True}
        response = await _post(client, token, body)
        assert response.status_code == 200
        assert response.json()["data_sources"] == ["extruct_db"]

    async def test_table_is_echoed_as_table_id(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        token = await create_token(runtime)
        table = str(uuid.uuid4())
        body = {"query": "banks", "table": {"id": table, "run": False, "auto_import": True}}
        assert (await _post(client, token, body)).json()["table_id"] == table

    async def test_user_criteria_are_stored_and_returned(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        token = await create_token(runtime)
        criteria = [{"key": "is_bank", "name": "Bank", "criterion": "The company is a licensed bank."}]
        task = (await _post(client, token, {"query": "banks", "criteria": criteria})).json()
        assert task["criteria"] == criteria


INVALID_BODIES: list[tuple[str, Any, list[Any]]] = [
    ("missing query", {}, ["body", "query"]),
    ("desired 0", {"query": "banks", "desired_num_results": 0}, ["body", "desired_num_results"]),
    ("desired 251", {"query": "banks", "desired_num_results": 251}, ["body", "desired_num_results"]),
    ("unknown field", {"query": "banks", "colour": "red"}, ["body", "colour"]),
    ("negative search budget", {"query": "banks", "budget": {"search_requests": -1}},
     ["body", "budget", "search_requests"]),
    ("negative page budget", {"query": "banks", "budget": {"pages_fetched": -1}}, ["body", "budget", "pages_fetched"]),
    ("bad total_tokens", {"query": "banks", "budget": {"total_tokens": "lots"}}, ["body", "budget", "total_tokens"]),
    ("total_tokens too large", {"query": "banks", "budget": {"total_tokens": 10**10}},
     ["body", "budget", "total_tokens"]),
    ("unknown budget", {"query": "banks", "budget": {"dollars": 5}}, ["body", "budget", "dollars"]),
    ("bad data source", {"query": "banks", "data_sources": ["yellow_pages"]}, ["body", "data_sources", 0]),
    ("manual without sources", {"query": "banks", "auto_data_sources": False}, ["body", "data_sources"]),
    ("criterion key", {"query": "banks", "criteria": [{"key": "1st", "name": "n", "criterion": "long enough text"}]},
     ["body", "criteria", 0, "key"]),
    ("criterion too short", {"query": "banks", "criteria": [{"key": "a", "name": "n", "criterion": "short"}]},
     ["body", "criteria", 0, "criterion"]),
    ("criterion name empty",
     {"query": "banks", "criteria": [{"key": "a", "name": "", "criterion": "long enough text"}]},
     ["body", "criteria", 0, "name"]),
    ("duplicate keys", {"query": "banks", "criteria": [{"key": "a", "name": "n", "criterion": "long enough text"}] * 2},
     ["body", "criteria"]),
    ("eleven criteria", {"query": "banks", "criteria": [
        {"key": f"k{i}", "name": "n", "criterion": "long enough text"} for i in range(11)]}, ["body", "criteria"]),
    ("unparseable domain", {"query": "banks", "exclude_domains": ["acme.com", "not a domain"]},
     ["body", "exclude_domains", 1]),
    ("no public suffix", {"query": "banks", "exclude_domains": ["localhost"]}, ["body", "exclude_domains", 0]),
    ("malformed task id", {"query": "banks", "exclude_task_ids": ["nope"]}, ["body", "exclude_task_ids", 0]),
    ("101 task ids", {"query": "banks", "exclude_task_ids": [str(uuid.uuid4()) for _ in range(101)]},
     ["body", "exclude_task_ids"]),
]


INVALID_BODIES += [(f"webhook: {case}", {"query": "banks", "webhook": webhook}, loc)
                   for case, webhook, loc in WEBHOOKS_INVALID]


class TestCreateRejects:
    @pytest.mark.parametrize(("case", "body", "loc"), INVALID_BODIES, ids=[c[0] for c in INVALID_BODIES])
    async def test_invalid_body_is_422_naming_the_field(
        self, client: httpx.AsyncClient, runtime: Runtime, case: str, body: Any, loc: list[Any]
    ) -> None:
        token = await create_token(runtime)
        response = await _post(client, token, body)
        assert response.status_code == 422, response.text
        detail = response.json()["detail"]
        assert isinstance(detail, list) and detail
        assert detail[0]["loc"] == loc
        assert detail[0]["msg"]
        await _assert_nothing_created(client, token)

    async def test_invalid_json_is_422(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        token = await create_token(runtime)
        response = await client.post(URL, content=b'{"query": ', headers={**auth(token),
                                                                         "Content-Type": "application/json"})
        assert response.status_code == 422
        assert response.json()["detail"][0]["type"] == "json_invalid"

    async def test_exclusion_set_over_1000_domains_is_422(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        token = await create_token(runtime)
        domains = [f"company{i}.com" for i in range(1001)]
        response = await _post(client, token, {"query": "banks", "exclude_domains": domains})
        assert response.status_code == 422
        assert "1000" in response.json()["detail"][0]["msg"]
        await _assert_nothing_created(client, token)

    async def test_exactly_1000_domains_is_accepted(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        token = await create_token(runtime)
        domains = [f"company{i}.com" for i in range(1000)] + ["www.company0.com"]
        response = await _post(client, token, {"query": "banks", "exclude_domains": domains})
        assert response.status_code == 200
        assert len(response.json()["exclude_domains"]) == 1000


class TestExcludeTaskIds:
    async def test_unknown_task_is_404(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        token = await create_token(runtime)
        missing = str(uuid.uuid4())
        response = await _post(client, token, {"query": "banks", "exclude_task_ids": [missing]})
        assert response.status_code == 404
        assert missing in response.json()["detail"]
        await _assert_nothing_created(client, token)

    async def test_task_of_another_organization_is_403(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        theirs = await create_token(runtime, email="eve@other.com", org="Other")
        their_task = (await _post(client, theirs, {"query": "banks"})).json()["id"]
        mine = await create_token(runtime, email="ana@acme.com", org="Acme")
        response = await _post(client, mine, {"query": "banks", "exclude_task_ids": [their_task]})
        assert response.status_code == 403
        assert their_task in response.json()["detail"]
        await _assert_nothing_created(client, mine)

    async def test_task_not_done_is_400(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        token = await create_token(runtime)
        pending = (await _post(client, token, {"query": "banks"})).json()["id"]
        response = await _post(client, token, {"query": "banks", "exclude_task_ids": [pending]})
        assert response.status_code == 400
        assert pending in response.json()["detail"]
        assert len((await client.get(URL, headers=auth(token))).json()) == 1
