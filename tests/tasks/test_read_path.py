"""Each database's reader (storage/dialects) returns a task as its create returned it, with the tenancy rules."""

from __future__ import annotations

import asyncio

import pytest

from firmscout.api.schemas import DiscoveryTaskOut
from firmscout.errors import NotFound
from firmscout.storage.db import unit_of_work
from firmscout.storage.dialects.postgresql import PostgresReader
from firmscout.storage.dialects.sqlite import SqliteReader
from firmscout.storage.repositories import tasks as task_repo
from firmscout.tasks import accounts
from firmscout.tasks.runtime import Runtime
from firmscout.tasks.service import NewTask
from tests.api.companies import ALL
from tests.factories import create_companies, create_token


async def _caller(runtime: Runtime, email: str, org: str | None) -> accounts.Caller:
    token = await create_token(runtime, email=email, org=org)
    return await accounts.authenticate(runtime.sessions, f"Bearer {token}")


def _json(task: object) -> str:
    return DiscoveryTaskOut.from_row(task).model_dump_json()  # type: ignore[arg-type]


class TestTaskView:
    async def test_uses_the_cheap_reader_of_its_database(self, runtime: Runtime) -> None:
        expected = SqliteReader if runtime.dialect.embedded else PostgresReader
        assert isinstance(runtime.reader, expected)

    async def test_get_shows_what_create_returned_and_every_later_change(self, runtime: Runtime) -> None:
        caller = await _caller(runtime, "ana@acme.com", "Acme")
        task = await runtime.service.create(
            caller, NewTask(query="banks in Spain", desired_num_results=7, exclude_domains=["https://www.bbva.com"])
        )
        assert _json(await runtime.service.get(caller, task.id)) == _json(task)
        # Every column the response shows, away from its default, committed by another connection.
        async with unit_of_work(runtime.sessions) as session:
            await task_repo.update_task(
                session, task.id, status="failed", is_exhausted=True, stop_reason="failed", error="boom \u00e9",
                num_results_discovered=9, num_results_enriched=8, num_results_evaluated=7, num_results=3,
                prompt_tokens=11, completion_tokens=5, table_id="3f1e0c4a-0000-4000-8000-000000000001",
            )
        view = await runtime.service.get(caller, task.id)
        assert _json(view) == _json((await runtime.service.list(caller, offset=0, limit=1))[0])
        assert (view.status, view.error, view.num_results, view.exclude_domains) == ("failed", "boom \u00e9", 3,
                                                                                      ["bbva.com"])
        assert DiscoveryTaskOut.from_row(view).usage.total_tokens == 16

    async def test_same_organization_sees_it_other_organization_gets_404(self, runtime: Runtime) -> None:
        owner = await _caller(runtime, "ana@acme.com", "Acme")
        colleague = await _caller(runtime, "bo@acme.com", "Acme")
        stranger = await _caller(runtime, "cy@other.com", "Other")
        task = await runtime.service.create(owner, NewTask(query="banks in Spain"))
        assert (await runtime.service.get(colleague, task.id)).id == task.id
        with pytest.raises(NotFound):
            await runtime.service.get(stranger, task.id)
        with pytest.raises(NotFound):
            await runtime.service.get(owner, "00000000-0000-4000-8000-000000000000")

    async def test_users_without_organization_see_only_their_own(self, runtime: Runtime) -> None:
        solo = await _caller(runtime, "solo@example.com", None)
        other = await _caller(runtime, "other@example.com", None)
        task = await runtime.service.create(solo, NewTask(query="banks in Spain"))
        assert _json(await runtime.service.get(solo, task.id)) == _json(task)
        assert await runtime.service.list(other, offset=0, limit=10) == []
        with pytest.raises(NotFound):
            await runtime.service.get(other, task.id)

    async def test_the_http_response_matches_the_list_entry(self, runtime: Runtime, client: object) -> None:
        import httpx

        assert isinstance(client, httpx.AsyncClient)
        token = await create_token(runtime, email="ana@acme.com", org="Acme")
        headers = {"Authorization": f"Bearer {token}"}
        created = (await client.post("/v1/discovery_tasks", json={"query": "banks in Spain"}, headers=headers)).json()
        got = await client.get(f"/v1/discovery_tasks/{created['id']}", headers=headers)
        listed = (await client.get("/v1/discovery_tasks", headers=headers)).json()
        assert got.status_code == 200 and got.json() == listed[0] == created


class TestResults:
    async def test_pages_are_slices_of_one_total_order_and_scoped_like_the_task(
        self, runtime: Runtime, worker: None
    ) -> None:
        from firmscout.api.schemas import DiscoveryTaskResult

        await create_companies(runtime, ALL)
        owner = await _caller(runtime, "ana@acme.com", "Acme")
        stranger = await _caller(runtime, "cy@other.com", "Other")
        task = await runtime.service.create(owner, NewTask(query="banks in Spain", desired_num_results=12))
        for _ in range(600):
            if (await runtime.service.get(owner, task.id)).status == "done":
                break
            await asyncio.sleep(0.05)
        done = await runtime.service.get(owner, task.id)
        assert done.status == "done" and done.num_results >= 3, done
        everything = await runtime.service.results(owner, task.id, offset=0, limit=250)
        assert _json(everything.task) == _json(done)
        ranked = [(-(r.relevance or 0), r.domain) for r in everything.results]
        assert len(ranked) == done.num_results and len(set(ranked)) == len(ranked)
        assert [r.relevance for r in everything.results] == sorted((r.relevance for r in everything.results),
                                                                   reverse=True)
        for offset, limit in ((0, 50), (1, 2), (done.num_results, 10)):
            page = await runtime.service.results(owner, task.id, offset=offset, limit=limit)
            assert [DiscoveryTaskResult.from_row(r).model_dump_json() for r in page.results] == [
                DiscoveryTaskResult.from_row(r).model_dump_json() for r in everything.results[offset:offset + limit]
            ]
        with pytest.raises(NotFound):
            await runtime.service.results(stranger, task.id, offset=0, limit=50)
