"""Pipeline speed and memory on the built-in company database, as ratios against a bare full-text search.

    python -m bench.pipeline [--repeats N] [--backend sqlite|postgresql|both] [--no-write]

The baseline is the cost floor measured in the same process: the same full-text query the local source
sends (search terms + country filter, 100 rows), without the pipeline around it. Each task is run with
`run_task` directly, so the figure is pipeline work, not polling delay.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import resource
import statistics
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from bench.common import pg_database, write_section
from firmscout.catalog.service import import_file, seed_builtin
from firmscout.config import Settings
from firmscout.pipeline.local.criteria import infer_criteria
from firmscout.pipeline.runner import run_task
from firmscout.storage.repositories.companies import search_companies
from firmscout.tasks import accounts
from firmscout.tasks.runtime import Runtime, open_runtime
from firmscout.tasks.service import NewTask
from firmscout.worker import pipeline_deps

QUERIES = (
    "banks in Spain",
    "chemical companies in Germany",
    "Japanese carmakers",
    "Nordic banks founded before 1900",
    "European logistics companies with over 10,000 employees",
    "US semiconductor companies",
    "French luxury goods companies",
    "insurance companies in Switzerland",
    "oil and gas companies in Texas",
    "telecommunications companies in Europe",
)
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


@dataclass
class Row:
    query: str
    baseline_ms: float
    pipeline_ms: float
    p90_ms: float
    results: int
    candidates: int


def _ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _p90(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))] * 1000


async def _baseline(runtime: Runtime, query: str, repeats: int) -> float:
    plan = infer_criteria(query)
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        async with runtime.sessions() as session:
            await search_companies(session, terms=plan.search_terms, countries=plan.constraints.countries,
                                   limit=100, offset=0)
        samples.append(time.perf_counter() - start)
    return _ms(samples)


async def _pipeline(runtime: Runtime, query: str, repeats: int) -> tuple[list[float], int, int]:
    caller = await accounts.local_caller(runtime.sessions)
    deps = pipeline_deps(runtime)
    samples, results, candidates = [], 0, 0
    for _ in range(repeats):
        task = await runtime.service.create(caller, NewTask(query=query, desired_num_results=100))
        start = time.perf_counter()
        await run_task(deps, task.id)
        samples.append(time.perf_counter() - start)
        done = await runtime.service.get(caller, task.id)
        results, candidates = done.num_results, done.num_results_discovered
    return samples, results, candidates


async def _concurrency(runtime: Runtime, n_tasks: int) -> tuple[float, int]:
    """n_tasks created at once and drained by one in-process worker (its configured concurrency)."""
    from firmscout.worker import run_worker

    caller = await accounts.local_caller(runtime.sessions)
    stop = asyncio.Event()
    start = time.perf_counter()
    ids = [(await runtime.service.create(caller, NewTask(query=QUERIES[i % len(QUERIES)]))).id
           for i in range(n_tasks)]
    worker = asyncio.create_task(run_worker(runtime, stop))
    results = 0
    for task_id in ids:
        while (task := await runtime.service.get(caller, task_id)).status not in ("done", "failed"):
            await asyncio.sleep(0.01)
        results += task.num_results
    elapsed = time.perf_counter() - start
    stop.set()
    await worker
    return elapsed, results


async def _import_rate(runtime: Runtime) -> str:
    path = SHARED / "financedatabase_equities.csv.gz"
    if not path.exists():
        return "skipped (shared/data not found)"
    mapping = {"name": ["name"], "website": ["website"], "description": ["summary"],
               "industry": ["industry", "industry_group", "sector"], "country": ["country"], "state": ["state"],
               "city": ["city"]}
    report = await import_file(runtime.sessions, path, mapping)
    return f"{report.rows_read:,} rows in {report.seconds:.1f} s = {report.rows_per_second:,.0f} rows/s"


async def bench_backend(url: str, data_dir: Path, repeats: int) -> tuple[list[Row], dict[str, str]]:
    runtime = await open_runtime(Settings(data_dir=data_dir, database_url=url))
    extra: dict[str, str] = {}
    try:
        await seed_builtin(runtime.sessions)
        rows: list[Row] = []
        for query in QUERIES:
            baseline = await _baseline(runtime, query, repeats)
            samples, results, candidates = await _pipeline(runtime, query, repeats)
            rows.append(Row(query, baseline, _ms(samples), _p90(samples), results, candidates))
        # A separate pass: tracemalloc slows allocation-heavy code several-fold, so it never overlaps timing.
        tracemalloc.start()
        for query in QUERIES:
            await _pipeline(runtime, query, 1)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        extra["python heap peak during tasks (tracemalloc)"] = f"{peak / 2**20:.1f} MiB"
        elapsed, results = await _concurrency(runtime, 20)
        extra["20 tasks at once, 1 worker (concurrency 2)"] = (
            f"{elapsed:.2f} s = {20 / elapsed * 60:,.0f} tasks/min, {results / elapsed:,.0f} results/s")
        extra["import FinanceDatabase (69,152 rows)"] = await _import_rate(runtime)
        big = [await _pipeline(runtime, q, repeats) for q in QUERIES[:3]]
        extra["task latency after import (~30k companies), 3 queries"] = ", ".join(
            f"{_ms(s):.0f} ms" for s, _, _ in big)
    finally:
        await runtime.close()
    return rows, extra


def _table(backend: str, rows: list[Row], extra: dict[str, str]) -> str:
    lines = [
        f"### {backend}",
        "",
        "| query | full-text baseline ms | pipeline ms (median) | p90 ms | ratio | results | candidates |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r.query} | {r.baseline_ms:.1f} | {r.pipeline_ms:.0f} | {r.p90_ms:.0f} | "
                     f"{r.pipeline_ms / max(r.baseline_ms, 1e-6):.0f}× | {r.results} | {r.candidates} |")
    total_base = sum(r.baseline_ms for r in rows)
    total_pipe = sum(r.pipeline_ms for r in rows)
    lines += ["", f"Sum over the queries: baseline {total_base:.0f} ms, pipeline {total_pipe:.0f} ms "
                  f"(ratio {total_pipe / max(total_base, 1e-6):.0f}×).", ""]
    lines += [f"- {k}: {v}" for k, v in extra.items()]
    return "\n".join(lines)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--no-write", action="store_true", help="print only; do not rewrite docs/benchmarks.md")
    args = parser.parse_args()
    sections = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.backend in ("sqlite", "both"):
            rows, extra = await bench_backend(f"sqlite:///{tmp}/bench.db", Path(tmp), args.repeats)
            sections.append(_table("SQLite (embedded default)", rows, extra))
            print(sections[-1], "\n", flush=True)
        if args.backend in ("postgresql", "both"):
            try:
                with pg_database("firmscout_bench") as url:
                    rows, extra = await bench_backend(url, Path(tmp), args.repeats)
                sections.append(_table("PostgreSQL 15 (local)", rows, extra))
                print(sections[-1], "\n", flush=True)
            except psycopg.Error as exc:
                print(f"PostgreSQL skipped: {exc}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    header = (f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, Python "
              f"{platform.python_version()}, {args.repeats} repeats per query; peak RSS of the process "
              f"{rss:.0f} MiB. Rerun: `make bench` (or `python -m bench.pipeline`).")
    print(header)
    if not args.no_write:
        write_section("pipeline", "## Pipeline speed\n\n" + header + "\n\n" + "\n\n".join(sections))


if __name__ == "__main__":
    asyncio.run(main())
