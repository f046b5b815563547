"""Spec §4 and decisions 5–9, 14: a task runs through the funnel to `done`; results, resume, exclusions."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from firmscout.tasks.runtime import Runtime
from tests.api.companies import ALL
from tests.factories import auth, create_companies, create_token, wait_for_task

URL = "/v1/discovery_tasks"
pytestmark = pytest.mark.usefixtures("worker")


async def _create(client: httpx.AsyncClient, token: str, **body: Any) -> dict[str, Any]:
    response = await client.post(URL, json=body, headers=auth(token))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def _results(client: httpx.AsyncClient, token: str, task_id: str, **params: int) -> dict[str, Any]:
    response = await client.get(f"{URL}/{task_id}/results", params=params, headers=auth(token))
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _high_fit(scores: dict[str, Any]) -> bool:
    return sum(s["grade"] >= 4 for s in scores.values()) / len(scores) >= 0.75


class TestBanksInSpain:
    async def test_finds_the_spanish_banks_graded_with_explanations(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        await create_companies(runtime, ALL)
        token = await create_token(runtime)
        task = await _create(client, token, query="banks in Spain", desired_num_results=5)
        done = await wait_for_task(client, token, task["id"])
        assert done["status"] == "done"
        assert done["criteria"], "inferred criteria are stored and returned"
        body = await _results(client, token, task["id"])
        domains = {r["company_website"] for r in body["results"]}
        assert {"bbva.com", "caixabank.com", "bankinter.com"} <= domains
        assert "db.com" not in domains, "a German bank fails the geography criterion"
        assert "telefonica.com" not in domains
        for result in body["results"]:
            assert set(result["scores"]) == {c["key"] for c in done["criteria"]}
            for score in result["scores"].values():
                assert score["grade"] in (4, 5)
                assert score["explanation"]
            assert result["hq_country"] == "Spain"
            assert 0 <= result["relevance"] <= 100

    async def test_funnel_counters_and_result_envelope(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        await create_companies(runtime, ALL)
        token = await create_token(runtime)
        task = await _create(client, token, query="banks in Spain", desired_num_results=50)
        done = await wait_for_task(client, token, task["id"])
        assert done["num_results_discovered"] >= done["num_results_enriched"] >= done["num_results_evaluated"]
        assert done["num_results_evaluated"] >= done["num_results"] == 3
        # Fewer than asked and nothing left to find: exhausted, and it says so.
        assert done["is_exhausted"] is True
        assert done["stop_reason"] == "exhausted"
        body = await _results(client, token, task["id"])
        assert body["num_results"] == len(body["results"]) == 3
        assert {k for k in done if k not in ("status",)} <= set(body)
        assert all(_high_fit(r["scores"]) for r in body["results"])
        relevances = [r["relevance"] for r in body["results"]]
        assert relevances == sorted(relevances, reverse=True)

    async def test_target_reached_stops_early(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        await create_companies(runtime, ALL)
        token = await create_token(runtime)
        task = await _create(client, token, query="banks in Spain", desired_num_results=2)
        done = await wait_for_task(client, token, task["id"])
        assert done["num_results"] == 2
        assert done["stop_reason"] == "target_reached"
        assert done["is_exhausted"] is False


class TestPaging:
    async def test_pages_are_stable_and_complete(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        await create_companies(runtime, ALL)
        token = await create_token(runtime)
        task = await _create(client, token, query="banks in Spain")
        await wait_for_task(client, token, task["id"])
        everything = [r["id"] for r in (await _results(client, token, task["id"], limit=250))["results"]]
        paged: list[str] = []
        offset = 0
        while True:
            page = (await _results(client, token, task["id"], offset=offset, limit=1))["results"]
            paged += [r["id"] for r in page]
            if len(page) < 1:
                break
            offset += 1
        assert paged == everything

    @pytest.mark.parametrize(
        "params", [{"limit": 0}, {"limit": 251}, {"offset": -1}, {"limit": "x"}, {"offset": 10**20}]
    )
    async def test_results_paging_out_of_range_is_422(
        self, client: httpx.AsyncClient, runtime: Runtime, params: dict[str, Any]
    ) -> None:
        token = await create_token(runtime)
        task = await _create(client, token, query="banks")
        response = await client.get(f"{URL}/{task['id']}/results", params=params, headers=auth(token))
        assert response.status_code == 422

    @pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"offset": -1}, {"offset": 10**20}])
    async def test_list_paging_out_of_range_is_422(
        self, client: httpx.AsyncClient, runtime: Runtime, params: dict[str, Any]
    ) -> None:
        token = await create_token(runtime)
        assert (await client.get(URL, params=params, headers=auth(token))).status_code == 422

    async def test_list_is_newest_first(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        token = await create_token(runtime)
        ids = [(await _create(client, token, query=f"query {i}"))["id"] for i in range(3)]
        listed = (await client.get(URL, headers=auth(token))).json()
        assert [t["id"] for t in listed] == ids[::-1]
        assert [t["id"] for t in (await client.get(URL, params={"offset": 1, "limit": 1},
                                                   headers=auth(token))).json()] == [ids[1]]


class TestResume:
    async def test_resume_raises_target_and_keeps_results(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        await create_companies(runtime, ALL)
        token = await create_token(runtime)
        task = await _create(client, token, query="banks in Spain", desired_num_results=1)
        first = await wait_for_task(client, token, task["id"])
        assert first["num_results"] == 1
        kept = (await _results(client, token, task["id"]))["results"]
        response = await client.post(f"{URL}/{task['id']}/resume", json={"desired_new_results": 1},
                                     headers=auth(token))
        assert response.status_code == 200
        assert response.json()["desired_num_results"] == 2
        assert response.json()["status"] == "in_progress"
        second = await wait_for_task(client, token, task["id"])
        assert second["num_results"] == 2
        after = (await _results(client, token, task["id"]))["results"]
        assert {r["id"] for r in kept} <= {r["id"] for r in after}
        assert len({r["company_website"] for r in after}) == len(after)

    async def test_cancel_returns_the_task_and_a_done_one_unchanged(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        await create_companies(runtime, ALL)
        token = await create_token(runtime)
        task = await _create(client, token, query="banks in Spain", desired_num_results=1)
        done = await wait_for_task(client, token, task["id"])
        response = await client.post(f"{URL}/{task['id']}/cancel", headers=auth(token))
        assert response.status_code == 200
        assert response.json()["stop_reason"] == done["stop_reason"] == "target_reached"
        missing = await client.post(f"{URL}/00000000-0000-4000-8000-000000000000/cancel", headers=auth(token))
        assert missing.status_code == 404

    async def test_resume_without_body_adds_25(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        await create_companies(runtime, ALL)
        token = await create_token(runtime)
        task = await _create(client, token, query="banks in Spain", desired_num_results=1)
        await wait_for_task(client, token, task["id"])
        response = await client.post(f"{URL}/{task['id']}/resume", headers=auth(token))
        assert response.status_code == 200
        assert response.json()["desired_num_results"] == 26

    async def test_resume_exhausted_task_is_400(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        await create_companies(runtime, ALL)
        token = await create_token(runtime)
        task = await _create(client, token, query="banks in Spain", desired_num_results=50)
        done = await wait_for_task(client, token, task["id"])
        assert done["is_exhausted"] is True
        response = await client.post(f"{URL}/{task['id']}/resume", json={}, headers=auth(token))
        assert response.status_code == 400
        assert "exhausted" in response.json()["detail"]

    async def test_resume_at_cap_is_400(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        token = await create_token(runtime)
        task = await _create(client, token, query="no such companies xyzzy", desired_num_results=250)
        # Not yet exhausted (still queued or running): the cap is what refuses.
        response = await client.post(f"{URL}/{task['id']}/resume", json={}, headers=auth(token))
        assert response.status_code == 400

    @pytest.mark.parametrize("body", [{"desired_new_results": -1}, {"desired_new_results": 251}, {"x": 1}])
    async def test_resume_invalid_body_is_422(
        self, client: httpx.AsyncClient, runtime: Runtime, body: dict[str, Any]
    ) -> None:
        token = await create_token(runtime)
        task = await _create(client, token, query="banks")
        response = await client.post(f"{URL}/{task['id']}/resume", json=body, headers=auth(token))
        assert response.status_code == 422


class TestTenancy:
    async def test_other_organizations_tasks_are_404(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        mine = await create_token(runtime, email="ana@acme.com", org="Acme")
        theirs = await create_token(runtime, email="eve@other.com", org="Other")
        task = await _create(client, mine, query="banks")
        for method, path in [("GET", f"{URL}/{task['id']}"), ("GET", f"{URL}/{task['id']}/results"),
                             ("POST", f"{URL}/{task['id']}/resume")]:
            response = await client.request(method, path, headers=auth(theirs))
            assert response.status_code == 404, path
            assert response.json()["detail"]
        assert (await client.get(URL, headers=auth(theirs))).json() == []

    async def test_unknown_task_is_404(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        token = await create_token(runtime)
        assert (await client.get(f"{URL}/not-a-task", headers=auth(token))).status_code == 404

    async def test_same_organization_shares_tasks_and_exclusions(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        await create_companies(runtime, ALL)
        ana = await create_token(runtime, email="ana@acme.com", org="Acme")
        bob = await create_token(runtime, email="bob@acme.com", org="Acme")
        first = await _create(client, ana, query="banks in Spain", desired_num_results=2)
        await wait_for_task(client, ana, first["id"])
        returned = {r["company_website"] for r in (await _results(client, ana, first["id"]))["results"]}
        assert len(returned) == 2
        second = await _create(client, bob, query="banks in Spain", exclude_task_ids=[first["id"]],
                               exclude_domains=["https://www.bbva.com/en"])
        assert second["exclude_domains"] == sorted(returned | {"bbva.com"})
        await wait_for_task(client, bob, second["id"])
        again = {r["company_website"] for r in (await _results(client, bob, second["id"]))["results"]}
        assert not again & set(second["exclude_domains"])
        # Frozen at creation: resuming re-reads the same set.
        task = (await client.get(f"{URL}/{second['id']}", headers=auth(bob))).json()
        assert task["exclude_domains"] == second["exclude_domains"]
