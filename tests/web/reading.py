"""Runtimes that read websites through the loopback web, with a worker beside them, for task-level tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from firmscout.config import Settings
from firmscout.entities import CompanyProfile
from firmscout.tasks import accounts
from firmscout.tasks.runtime import Runtime, open_runtime
from firmscout.tasks.service import NewTask
from firmscout.worker import run_worker
from tests.factories import create_companies
from tests.servers.web import LoopbackWeb
from tests.web.test_fetch import seam


def web_settings(database_url: str, tmp_path: Path, web: LoopbackWeb, enrich: str = "on",
                 **more_web: object) -> Settings:
    """`more_web`: further FIRMSCOUT_WEB__* settings (a search provider)."""
    return Settings(
        data_dir=tmp_path, database_url=database_url, seed_builtin_companies=False,
        worker={"poll_interval_s": 0.05},  # type: ignore[arg-type]
        web={"proxy_url": web.proxy_url, "enrich": enrich, "per_host_delay_s": 0.0,  # type: ignore[arg-type]
             **more_web},
    )


@asynccontextmanager
async def working(
    database_url: str, tmp_path: Path, web: LoopbackWeb, companies: list[CompanyProfile], enrich: str = "on",
    **more_web: object,
) -> AsyncIterator[Runtime]:
    """A runtime holding `companies`, its worker running until the block ends."""
    settings = web_settings(database_url, tmp_path, web, enrich, **more_web)
    async with open_runtime(settings, resolver=seam) as runtime:
        await create_companies(runtime, companies)
        stop = asyncio.Event()
        worker = asyncio.create_task(run_worker(runtime, stop))
        try:
            yield runtime
        finally:
            stop.set()
            await asyncio.wait_for(worker, 30)


async def run_to_end(runtime: Runtime, new: NewTask) -> str:
    """Create the task as the local user and wait until it is done or failed; its id."""
    caller = await accounts.local_caller(runtime.sessions)
    task = await runtime.service.create(caller, new)
    for _ in range(400):
        if (await runtime.service.get(caller, task.id)).status in ("done", "failed"):
            return task.id
        await asyncio.sleep(0.05)
    raise AssertionError("task did not finish")
