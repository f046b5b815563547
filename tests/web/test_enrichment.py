"""Tasks read candidates' websites (FIRMSCOUT_WEB__ENRICH) through the loopback web: grades quote the pages
they rest on, a site that cannot be read is recorded and never fails the task, and a rerun fetches nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from firmscout.config import Settings
from firmscout.entities import CompanyProfile, Criterion
from firmscout.storage.tables import Candidate
from firmscout.tasks import accounts
from firmscout.tasks.runtime import Runtime, open_runtime
from firmscout.tasks.service import NewTask
from firmscout.worker import run_worker
from tests.factories import create_companies
from tests.servers.web import LoopbackWeb, company_site
from tests.web.test_fetch import seam

WELDING = Criterion("welding", "Welding robots", "The company builds welding robots.")
COMPANIES = [
    # The database's own description wins, and says nothing of welding: only the website does.
    CompanyProfile(domain="weld.example", name="Weld Robotics GmbH", country="Germany", website="weld.example",
                   description="Weld Robotics GmbH makes industrial machinery."),
    CompanyProfile(domain="gone.example", name="Gone Robotics GmbH", country="Germany", website="gone.example"),
]


def _settings(database_url: str, tmp_path: Path, web: LoopbackWeb, enrich: str) -> Settings:
    return Settings(
        data_dir=tmp_path, database_url=database_url, seed_builtin_companies=False,
        worker={"poll_interval_s": 0.05},  # type: ignore[arg-type]
        web={"proxy_url": web.proxy_url, "enrich": enrich, "per_host_delay_s": 0.0},  # type: ignore[arg-type]
    )


@pytest.fixture
async def enriching(database_url: str, tmp_path: Path, fake_web: LoopbackWeb) -> AsyncIterator[Runtime]:
    fake_web.add_site(company_site("weld.example", "Weld Robotics GmbH", industry="welding robots"))
    async with open_runtime(_settings(database_url, tmp_path, fake_web, "on"), resolver=seam) as runtime:
        await create_companies(runtime, COMPANIES)
        stop = asyncio.Event()
        worker = asyncio.create_task(run_worker(runtime, stop))
        yield runtime
        stop.set()
        await asyncio.wait_for(worker, 30)


async def _search(runtime: Runtime) -> str:
    caller = await accounts.local_caller(runtime.sessions)
    task = await runtime.service.create(
        caller, NewTask(query="robotics companies in Germany", desired_num_results=5, criteria=[WELDING])
    )
    for _ in range(400):
        if (await runtime.service.get(caller, task.id)).status in ("done", "failed"):
            return task.id
        await asyncio.sleep(0.05)
    raise AssertionError("task did not finish")


class TestWebsiteEvidence:
    async def test_grades_quote_the_page_they_rest_on(self, enriching: Runtime) -> None:
        task_id = await _search(enriching)
        caller = await accounts.local_caller(enriching.sessions)
        page = await enriching.service.results(caller, task_id, offset=0, limit=10)
        assert page.task.status == "done" and [r.domain for r in page.results] == ["weld.example"]
        grade = page.results[0].scores["welding"]  # type: ignore[index]
        assert grade["grade"] >= 4 and 'Its website says: "' in grade["explanation"]
        assert "welding robots" in grade["explanation"]
        assert grade["sources"] and all(url.startswith("http://weld.example/") for url in grade["sources"])
        assert page.task.pages_fetched >= 1 and page.task.web_bytes > 0

    async def test_a_site_that_cannot_be_read_is_recorded_on_its_candidate(self, enriching: Runtime) -> None:
        task_id = await _search(enriching)
        async with enriching.sessions() as session:
            rows = {c.domain: c for c in await session.scalars(select(Candidate).where(Candidate.task_id == task_id))}
        assert rows["weld.example"].profile is not None and rows["weld.example"].profile["web_status"] == "read"
        gone = rows["gone.example"].profile
        assert gone is not None and gone["web_status"] not in (None, "read") and not rows["gone.example"].is_high_fit

    async def test_a_repeated_task_fetches_nothing(self, enriching: Runtime, fake_web: LoopbackWeb) -> None:
        await _search(enriching)
        fake_web.reset()
        task_id = await _search(enriching)
        caller = await accounts.local_caller(enriching.sessions)
        task = await enriching.service.get(caller, task_id)
        assert [r.target for r in fake_web.requests if "weld.example" in r.target] == []
        assert task.pages_fetched == 0 and task.num_results == 1


async def test_without_enrichment_nothing_is_fetched(
    database_url: str, tmp_path: Path, fake_web: LoopbackWeb
) -> None:
    async with open_runtime(_settings(database_url, tmp_path, fake_web, "off"), resolver=seam) as runtime:
        assert runtime.pages is None
        await create_companies(runtime, COMPANIES)
        stop = asyncio.Event()
        worker = asyncio.create_task(run_worker(runtime, stop))
        try:
            task_id = await _search(runtime)
        finally:
            stop.set()
            await asyncio.wait_for(worker, 30)
        caller = await accounts.local_caller(runtime.sessions)
        assert (await runtime.service.get(caller, task_id)).num_results == 0
    assert fake_web.requests == []


async def test_a_rebranded_site_and_its_new_domain_are_one_candidate(
    database_url: str, tmp_path: Path, fake_web: LoopbackWeb
) -> None:
    # old.example redirects to new.example (a rebrand): both are in the database, one company is returned.
    brands = [CompanyProfile(domain="old.example", name="Old Brand Robotics", country="United States"),
              CompanyProfile(domain="new.example", name="New Brand Robotics", country="United States")]
    async with open_runtime(_settings(database_url, tmp_path, fake_web, "on"), resolver=seam) as runtime:
        await create_companies(runtime, brands)
        stop = asyncio.Event()
        worker = asyncio.create_task(run_worker(runtime, stop))
        try:
            caller = await accounts.local_caller(runtime.sessions)
            task = await runtime.service.create(caller, NewTask(query="robotics companies", desired_num_results=5))
            for _ in range(400):
                if (await runtime.service.get(caller, task.id)).status in ("done", "failed"):
                    break
                await asyncio.sleep(0.05)
        finally:
            stop.set()
            await asyncio.wait_for(worker, 30)
        page = await runtime.service.results(caller, task.id, offset=0, limit=10)
        async with runtime.sessions() as session:
            old = await session.scalar(select(Candidate).where(Candidate.task_id == task.id,
                                                               Candidate.domain == "old.example"))
    assert [r.domain for r in page.results] == ["new.example"]
    assert old is not None and old.stage == "filtered" and old.profile is not None
    assert old.profile["web_status"] == "duplicate of new.example"
