"""A relationship query naming a company by a domain the database lacks: with web reading on, the
reference is profiled from its website through the guarded fetcher, then its lookalikes are found."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from firmscout.config import Settings
from firmscout.entities import CompanyProfile
from firmscout.tasks import accounts
from firmscout.tasks.runtime import Runtime, open_runtime
from firmscout.tasks.service import NewTask
from firmscout.worker import run_worker
from tests.factories import create_companies
from tests.servers.web import LoopbackWeb, company_site
from tests.web.test_fetch import seam

COMPANIES = [
    CompanyProfile(domain="codaworks.io", name="Codaworks", country="Germany",
                   description="Codaworks makes collaborative workspace software for teams."),
    CompanyProfile(domain="tabletop.io", name="Tabletop", country="Germany",
                   description="Tabletop makes restaurant point-of-sale terminals."),
]


@pytest.fixture
async def runtime_with_web(database_url: str, tmp_path: Path, fake_web: LoopbackWeb) -> AsyncIterator[Runtime]:
    fake_web.add_site(company_site("notespace.io", "Notespace", industry="collaborative workspace software"))
    settings = Settings(
        data_dir=tmp_path, database_url=database_url, seed_builtin_companies=False,
        worker={"poll_interval_s": 0.05},  # type: ignore[arg-type]
        web={"proxy_url": fake_web.proxy_url, "enrich": "on", "per_host_delay_s": 0.0},  # type: ignore[arg-type]
    )
    async with open_runtime(settings, resolver=seam) as runtime:
        await create_companies(runtime, COMPANIES)
        stop = asyncio.Event()
        worker = asyncio.create_task(run_worker(runtime, stop))
        yield runtime
        stop.set()
        await asyncio.wait_for(worker, 30)


async def test_an_unknown_reference_domain_is_read_from_its_website(runtime_with_web: Runtime) -> None:
    caller = await accounts.local_caller(runtime_with_web.sessions)
    service = runtime_with_web.service
    task = await service.create(caller, NewTask(query="companies similar to notespace.io", desired_num_results=5))
    for _ in range(400):
        if (await service.get(caller, task.id)).status in ("done", "failed"):
            break
        await asyncio.sleep(0.05)
    page = await service.results(caller, task.id, offset=0, limit=10)
    assert page.task.status == "done", page.task.error
    assert [r.domain for r in page.results] == ["codaworks.io"]
    reference = next(c for c in page.task.criteria if c["key"] == "similar_to_reference")
    assert "notespace.io" in reference["criterion"] and "collaborative workspace" in reference["criterion"]
