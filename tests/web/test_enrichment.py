"""Tasks read candidates' websites (FIRMSCOUT_WEB__ENRICH) through the loopback web: grades quote the pages
they rest on, a site that cannot be read is recorded and never fails the task, and a rerun fetches nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from firmscout.entities import CompanyProfile, Criterion
from firmscout.storage.tables import Candidate
from firmscout.tasks import accounts
from firmscout.tasks.runtime import Runtime
from firmscout.tasks.service import NewTask
from tests.servers.web import LoopbackWeb, company_site
from tests.web.reading import run_to_end, working

WELDING = Criterion("welding", "Welding robots", "The company builds welding robots.")
COMPANIES = [
    # The database's own description wins, and says nothing of welding: only the website does.
    CompanyProfile(domain="weld.example", name="Weld Robotics GmbH", country="Germany", website="weld.example",
                   description="Weld Robotics GmbH makes industrial machinery."),
    CompanyProfile(domain="gone.example", name="Gone Robotics GmbH", country="Germany", website="gone.example"),
]


@pytest.fixture
async def enriching(database_url: str, tmp_path: Path, fake_web: LoopbackWeb) -> AsyncIterator[Runtime]:
    fake_web.add_site(company_site("weld.example", "Weld Robotics GmbH", industry="welding robots"))
    async with working(database_url, tmp_path, fake_web, COMPANIES) as runtime:
        yield runtime


async def _search(runtime: Runtime) -> str:
    return await run_to_end(
        runtime, NewTask(query="robotics companies in Germany", desired_num_results=5, criteria=[WELDING])
    )


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
    async with working(database_url, tmp_path, fake_web, COMPANIES, enrich="off") as runtime:
        assert runtime.pages is None
        task_id = await _search(runtime)
        caller = await accounts.local_caller(runtime.sessions)
        assert (await runtime.service.get(caller, task_id)).num_results == 0
    assert fake_web.requests == []


async def test_a_rebranded_site_and_its_new_domain_are_one_candidate(
    database_url: str, tmp_path: Path, fake_web: LoopbackWeb
) -> None:
    # old.example redirects to new.example (a rebrand): both are in the database, one company is returned.
    brands = [CompanyProfile(domain="old.example", name="Old Brand Robotics", country="United States"),
              CompanyProfile(domain="new.example", name="New Brand Robotics", country="United States")]
    async with working(database_url, tmp_path, fake_web, brands) as runtime:
        task_id = await run_to_end(runtime, NewTask(query="robotics companies", desired_num_results=5))
        caller = await accounts.local_caller(runtime.sessions)
        page = await runtime.service.results(caller, task_id, offset=0, limit=10)
        async with runtime.sessions() as session:
            old = await session.scalar(select(Candidate).where(Candidate.task_id == task_id,
                                                               Candidate.domain == "old.example"))
    assert [r.domain for r in page.results] == ["new.example"]
    assert old is not None and old.stage == "filtered" and old.profile is not None
    assert old.profile["web_status"] == "duplicate of new.example"
