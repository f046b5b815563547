"""A relationship query naming a company by a domain the database lacks: with web reading on, the
reference is profiled from its website through the guarded fetcher, then its lookalikes are found."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from firmscout.entities import CompanyProfile
from firmscout.tasks import accounts
from firmscout.tasks.runtime import Runtime
from firmscout.tasks.service import NewTask
from tests.servers.web import LoopbackWeb, company_site
from tests.web.reading import run_to_end, working

COMPANIES = [
    CompanyProfile(domain="codaworks.io", name="Codaworks", country="Germany",
                   description="Codaworks makes collaborative workspace software for teams."),
    CompanyProfile(domain="tabletop.io", name="Tabletop", country="Germany",
                   description="Tabletop makes restaurant point-of-sale terminals."),
]


@pytest.fixture
async def runtime_with_web(database_url: str, tmp_path: Path, fake_web: LoopbackWeb) -> AsyncIterator[Runtime]:
    fake_web.add_site(company_site("notespace.io", "Notespace", industry="collaborative workspace software"))
    async with working(database_url, tmp_path, fake_web, COMPANIES) as runtime:
        yield runtime


async def test_an_unknown_reference_domain_is_read_from_its_website(runtime_with_web: Runtime) -> None:
    task_id = await run_to_end(runtime_with_web, NewTask(query="companies similar to notespace.io",
                                                         desired_num_results=5))
    caller = await accounts.local_caller(runtime_with_web.sessions)
    page = await runtime_with_web.service.results(caller, task_id, offset=0, limit=10)
    assert page.task.status == "done", page.task.error
    assert [r.domain for r in page.results] == ["codaworks.io"]
    reference = next(c for c in page.task.criteria if c["key"] == "similar_to_reference")
    assert "notespace.io" in reference["criterion"] and "collaborative workspace" in reference["criterion"]
