"""The web app's pages: server time to render them with a task of 250 results, against the API's JSON of the same.

    python -m bench.web_app [--db sqlite|postgresql] [--results 250] [--repeat 40] [--no-write]

A runtime on a temporary SQLite file (or a throwaway PostgreSQL database) gets 2 × `--results` Spanish banks (generated,
each with a website and a Wikipedia page), and one task "banks in Spain" asking for as many runs to the end on
the local pipeline, so its results carry real grades, explanations and sources. The heap is then frozen as
`firmscout serve` freezes it once started, and each page is requested
`--repeat` times, signed in, through httpx's in-process ASGI transport: the time is the server's (routing,
session lookup, database reads, rendering), with no network and no browser. The baseline is
GET /v1/discovery_tasks/{id}/results?limit=250, the same rows as JSON, timed in the same process and loop.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.common import pg_database, write_section
from bench.stats import host, machine_line, nearest_rank
from firmscout.api.app import create_app
from firmscout.commands.api_server import freeze_heap
from firmscout.config import Settings
from firmscout.entities import CompanyProfile
from firmscout.storage.db import unit_of_work
from firmscout.storage.repositories.companies import upsert_companies
from firmscout.tasks import accounts
from firmscout.tasks.runtime import Runtime, open_runtime
from firmscout.worker import run_worker

TARGET_MS = 100.0
QUERY = "banks in Spain"
_CITIES = ("Madrid", "Barcelona", "Valencia", "Bilbao", "Sevilla", "Málaga", "Zaragoza", "Murcia")


@dataclass(frozen=True)
class Timing:
    page: str
    samples_ms: list[float]
    bytes: int

    @property
    def median(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p95(self) -> float:
        return nearest_rank(sorted(self.samples_ms), 0.95)


def _banks(n: int) -> list[CompanyProfile]:
    return [
        CompanyProfile(
            domain=f"banco{i}.es", name=f"Banco Ejemplo {i}", website=f"https://www.banco{i}.es",
            description=f"Spanish retail bank number {i}, with branches across the region.",
            full_description=None, country="Spain", state=None, city=_CITIES[i % len(_CITIES)],
            industries=("Banks", "Financials", "Financial services"), tags=(), products=None,
            founded_year=1900 + i % 120, employees=100 + i, employee_count="51-200", revenue=None,
            wikipedia_url=f"https://en.wikipedia.org/wiki/Banco_Ejemplo_{i}", linkedin_url=None, status=None,
            origin="bench",
        )
        for i in range(n)
    ]


async def _task_with_results(runtime: Runtime, client: httpx.AsyncClient, token: str, n: int) -> str:
    async with unit_of_work(runtime.sessions) as session:
        # Twice as many as asked for: the local source reads a bounded candidate list per search term.
        await upsert_companies(session, _banks(2 * n))
    headers = {"Authorization": f"Bearer {token}"}
    created = (await client.post("/v1/discovery_tasks", json={"query": QUERY, "desired_num_results": n},
                                 headers=headers)).raise_for_status().json()
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(runtime, stop))
    try:
        while True:
            task = (await client.get(f"/v1/discovery_tasks/{created['id']}", headers=headers)).json()
            if task["status"] in ("done", "failed"):
                break
            await asyncio.sleep(0.2)
    finally:
        stop.set()
        await worker
    if task["num_results"] < n:
        raise SystemExit(f"the task found {task['num_results']} of {n} results ({task['stop_reason']})")
    return str(created["id"])


async def _sign_in(client: httpx.AsyncClient, token: str) -> None:
    form = (await client.get("/signin")).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert csrf is not None
    signed = await client.post("/signin", data={"token": token, "csrf_token": csrf[1]})
    assert signed.status_code == 303, signed.text


async def _time(page: str, call: Callable[[], Awaitable[httpx.Response]], repeat: int) -> Timing:
    await call()  # warm-up: templates compiled, statements prepared
    samples, size = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        response = await call()
        samples.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        size = len(response.content)
    return Timing(page, samples, size)


async def measure(settings: Settings, n: int, repeat: int) -> tuple[list[Timing], int]:
    async with open_runtime(settings) as runtime:
        transport = httpx.ASGITransport(app=create_app(runtime))
        async with httpx.AsyncClient(transport=transport, base_url="http://bench.test") as client:
            token = await accounts.create_token(runtime.sessions, email="bench@example.com", org_name="Bench")
            task_id = await _task_with_results(runtime, client, token, n)
            freeze_heap()  # as `firmscout serve` does once started: its long-lived heap leaves the GC's scans
            api = {"Authorization": f"Bearer {token}"}
            baseline = await _time("API JSON: GET …/results?limit=250 (baseline)", lambda: client.get(
                f"/v1/discovery_tasks/{task_id}/results", params={"limit": 250}, headers=api), repeat)
            await _sign_in(client, token)
            page = await client.get(f"/tasks/{task_id}")
            rows = page.text.count('data-testid="result-row"')
            timings = [baseline]
            for name, path, params in (
                ("task page, all results", f"/tasks/{task_id}", {}),
                ("task page, sorted by name", f"/tasks/{task_id}", {"sort": "name"}),
                ("live refresh fragment", f"/tasks/{task_id}/live", {}),
                ("CSV export", f"/tasks/{task_id}/export.csv", {}),
                ("task list", "/tasks", {}),
                ("new search form", "/tasks/new", {}),
            ):
                timings.append(await _time(name, lambda p=path, q=params: client.get(p, params=q), repeat))
    return timings, rows


def section(db: str, n: int, rows: int, repeat: int, timings: list[Timing]) -> str:
    base = timings[0].median
    lines = [
        f"Host: {host()}. {db}; one task \"{QUERY}\" with {rows} results (2 criteria each, graded on the local "
        f"pipeline); each page requested {repeat} times, signed in, in-process (httpx ASGI transport):",
        "",
        "| page | median | p95 | × the API's JSON | response |",
        "|---|---:|---:|---:|---:|",
    ]
    for t in timings:
        lines.append(f"| {t.page} | {t.median:.1f} ms | {t.p95:.1f} ms | {t.median / base:.2f}× | "
                     f"{t.bytes / 1024:.0f} KiB |")
    page = timings[1]
    verdict = "met" if page.p95 < TARGET_MS and rows == n else "not met"
    lines += ["", f"Target, the task page with {n} results under {TARGET_MS:.0f} ms of server time: {verdict} "
                  f"(median {page.median:.1f} ms, p95 {page.p95:.1f} ms)."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--results", type=int, default=250)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    print(machine_line())
    with tempfile.TemporaryDirectory() as tmp:
        if args.db == "sqlite":
            settings = Settings(data_dir=Path(tmp), database_url=f"sqlite:///{tmp}/bench.db")
            timings, rows = asyncio.run(measure(settings, args.results, args.repeat))
        else:
            with pg_database("bench_web_app") as url:
                settings = Settings(data_dir=Path(tmp), database_url=url)
                timings, rows = asyncio.run(measure(settings, args.results, args.repeat))
    text = section("SQLite" if args.db == "sqlite" else "PostgreSQL", args.results, rows, args.repeat, timings)
    print(text)
    if not args.no_write:
        write_section(f"web-app-{args.db}", text)


if __name__ == "__main__":
    main()
