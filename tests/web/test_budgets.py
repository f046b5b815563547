"""A task's search and page budgets, resume after `budget_exhausted`, and what the search provider warned of,
end to end: a SearXNG-compatible search server and a generated web on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from firmscout.api.schemas import DiscoveryTaskOut
from firmscout.errors import BadRequest
from firmscout.storage.tables import Candidate
from firmscout.storage.views import TaskView
from firmscout.tasks import accounts
from firmscout.tasks.runtime import Runtime
from firmscout.tasks.service import NewTask
from tests.servers.search_api import Doc, SearchApiServer
from tests.servers.web import LoopbackWeb, company_site
from tests.web.reading import run_to_end, working

COMPANIES = ["roboarm.com", "weldbots.de", "gripworks.com"]
QUERY = "industrial robot makers in Germany"
# Searches enough for every planned search's pages: the sources run dry before this budget does.
PLENTY = 1000


@pytest.fixture
def searxng(search_server: SearchApiServer) -> SearchApiServer:
    return search_server.reset(provider="searxng", corpus=[
        Doc(f"http://{host}/", f"{host.split('.')[0].title()} | Industrial robots", "Robots made in Germany.")
        for host in COMPANIES
    ])


@pytest.fixture
async def runtime(database_url: str, tmp_path: Path, fake_web: LoopbackWeb,
                  searxng: SearchApiServer) -> AsyncIterator[Runtime]:
    for host in COMPANIES:
        fake_web.add_site(company_site(host, host.split(".")[0].title(), industry="industrial robots",
                                       country="Germany"))
    async with working(database_url, tmp_path, fake_web, [], search_provider="searxng",
                       search_url=searxng.base_url, search_interval_s=0.0) as runtime:
        yield runtime


def _web_search(**budgets: int) -> NewTask:
    return NewTask(query=QUERY, desired_num_results=250, auto_data_sources=False, data_sources=["web_search"],
                   **budgets)  # type: ignore[arg-type]


async def _settled(runtime: Runtime, task_id: str) -> TaskView:
    """The task once the worker has finished it again (after a resume)."""
    caller = await accounts.local_caller(runtime.sessions)
    for _ in range(400):
        task = await runtime.service.get(caller, task_id)
        if task.status in ("done", "failed"):
            return task
        await asyncio.sleep(0.05)
    raise AssertionError("task did not finish")


async def _web_statuses(runtime: Runtime, task_id: str) -> list[str | None]:
    async with runtime.sessions() as session:
        profiles = (await session.scalars(select(Candidate.profile).where(Candidate.task_id == task_id))).all()
    return [(profile or {}).get("web_status") for profile in profiles]


class TestSearchBudget:
    async def test_resume_after_budget_exhausted_continues_with_a_fresh_budget(
        self, runtime: Runtime, searxng: SearchApiServer
    ) -> None:
        task_id = await run_to_end(runtime, _web_search(search_budget=2, page_budget=PLENTY))
        caller = await accounts.local_caller(runtime.sessions)
        first = await runtime.service.get(caller, task_id)
        assert (first.status, first.stop_reason, first.is_exhausted) == ("done", "budget_exhausted", False)
        assert first.search_requests == 2 == len(searxng.requests)

        resumed = await runtime.service.resume(caller, task_id, 0)
        assert (resumed.status, resumed.stop_reason) == ("in_progress", None)
        second = await _settled(runtime, task_id)
        assert (second.status, second.stop_reason) == ("done", "budget_exhausted"), "the same budget, once more"
        assert second.search_requests == 4 == len(searxng.requests), "usage counts both grants"
        asked = [(r.params["q"], r.params["pageno"]) for r in searxng.requests]
        assert len(set(asked)) == 4, f"the resume continued the cursor, asking nothing twice: {asked}"
        assert second.num_results >= first.num_results

    async def test_a_task_whose_sources_ran_dry_is_exhausted_and_cannot_be_resumed(self, runtime: Runtime) -> None:
        task_id = await run_to_end(runtime, _web_search(search_budget=PLENTY, page_budget=PLENTY))
        caller = await accounts.local_caller(runtime.sessions)
        task = await runtime.service.get(caller, task_id)
        assert (task.status, task.stop_reason, task.is_exhausted) == ("done", "exhausted", True)
        with pytest.raises(BadRequest, match="exhausted"):
            await runtime.service.resume(caller, task_id, 0)


class TestPageBudget:
    async def test_a_task_out_of_pages_grades_without_websites_and_ends_budget_exhausted(
        self, runtime: Runtime
    ) -> None:
        # One company's website (at most 4 pages) fits the budget; the others are graded from their search result.
        task_id = await run_to_end(runtime, _web_search(search_budget=PLENTY, page_budget=4))
        caller = await accounts.local_caller(runtime.sessions)
        task = await runtime.service.get(caller, task_id)
        assert (task.status, task.stop_reason, task.is_exhausted) == ("done", "budget_exhausted", False)
        assert 0 < task.pages_fetched <= 4
        statuses = await _web_statuses(runtime, task_id)
        assert statuses.count("budget") == len(COMPANIES) - 1, statuses

        await runtime.service.resume(caller, task_id, 0)
        again = await _settled(runtime, task_id)
        assert (again.stop_reason, again.is_exhausted) == ("exhausted", True), \
            "with pages again and nothing left to find, the sources' end is the reason"


class TestProviderWarnings:
    async def test_an_unresponsive_searxng_engine_is_a_warning_on_the_task_once(
        self, runtime: Runtime, searxng: SearchApiServer
    ) -> None:
        searxng.unresponsive_engines = [("google", "timeout")]
        task_id = await run_to_end(runtime, _web_search(search_budget=3))
        caller = await accounts.local_caller(runtime.sessions)
        task = await runtime.service.get(caller, task_id)
        assert len(searxng.requests) == 3, "every answer said so"
        assert task.warnings == ["SearXNG engine 'google' did not answer: timeout"]
        assert DiscoveryTaskOut.from_row(task).warnings == task.warnings
        assert task.num_results > 0 and task.error is None, "a warning is not a failure"

    async def test_without_warnings_the_list_is_empty(self, runtime: Runtime) -> None:
        task_id = await run_to_end(runtime, _web_search(search_budget=1))
        caller = await accounts.local_caller(runtime.sessions)
        assert DiscoveryTaskOut.from_row(await runtime.service.get(caller, task_id)).warnings == []
