"""Pipeline speed and memory, end to end through the task service and an in-process worker, as ratios
against a bare full-text search measured in the same process.

    python -m bench.pipeline [--backend sqlite|postgresql|both] [--repeats N] [--quick] [--no-write]
                             [--profile]

For each backend, on a fresh throwaway database (a temporary SQLite file; a new PostgreSQL database on
127.0.0.1:5432, dropped afterwards) seeded with the built-in companies:

1. Task latency: a task is created through `TaskService.create`, a worker running as a background asyncio
   task picks it up, and `TaskService.get` is polled every 5 ms until it is done. Each query runs once to
   warm up, then `--repeats` times, round-robin over the queries so drift on a shared machine hits all.
2. Baseline: right before each task, the bare `search_companies` call with the plan's search terms and
   countries (limit 100), i.e. the one query the pipeline cannot avoid.
3. Concurrency: 20 tasks created at once, drained by the worker (concurrency 2).
4. Import: the shared YC and FinanceDatabase files through `import_file`, against reading and cleaning the
   file without a database; then task latency again on the bigger database.
5. Memory: peak RSS after the latency phase; tracemalloc peaks in a separate untimed pass (tracemalloc slows
   allocation several-fold, so it never overlaps a timing).

Speed and memory are measured here, never asserted in tests. `--quick` (about 30 s) imports only the YC
file and prints without rewriting docs/benchmarks.md unless `--write` is given.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import pstats
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy import event

from bench.common import PG_ADMIN, pg_database, write_section
from bench.importer import FINANCE, YC, DataFile, measure_import
from bench.report import DESIRED, BackendFigures, ConcurrencyFigures, MemoryFigures, QueryFigures, block, render
from bench.stats import Summary, current_rss_mib, machine_line, peak_rss_mib
from firmscout.catalog.service import count
from firmscout.config import Settings, WorkerSettings
from firmscout.pipeline.stages.plan import make_plan
from firmscout.storage.repositories.companies import search_companies
from firmscout.storage.views import TaskView
from firmscout.tasks import accounts
from firmscout.tasks.accounts import Caller
from firmscout.tasks.runtime import Runtime, open_runtime
from firmscout.tasks.service import NewTask
from firmscout.worker import run_worker

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
AFTER_IMPORT_QUERIES = QUERIES[:3]
POLL_S = 0.005
CONCURRENT_TASKS = 20
WORKER_CONCURRENCY = 2
FINISHED = ("done", "failed")


@dataclass(frozen=True)
class Mode:
    name: str
    repeats: int
    concurrency_rounds: int
    files: tuple[DataFile, ...]
    parse_repeats: int


DEFAULT = Mode("default", repeats=7, concurrency_rounds=3, files=(YC, FINANCE), parse_repeats=2)
QUICK = Mode("quick", repeats=2, concurrency_rounds=1, files=(YC,), parse_repeats=1)


@dataclass(frozen=True)
class TaskRun:
    seconds: float
    task: TaskView


class Bench:
    """One backend's runtime, the local caller and a worker running in the background."""

    def __init__(self, runtime: Runtime, caller: Caller, figures: BackendFigures) -> None:
        self.runtime = runtime
        self.caller = caller
        self.figures = figures
        self._sql_counts: Counter[str] | None = None
        self._listen_sql()

    async def task(self, query: str) -> TaskRun:
        service = self.runtime.service
        start = time.perf_counter()
        created = await service.create(self.caller, NewTask(query=query, desired_num_results=DESIRED))
        while (task := await service.get(self.caller, created.id)).status not in FINISHED:
            await asyncio.sleep(POLL_S)
        elapsed = time.perf_counter() - start
        if task.status == "failed":
            self.figures.failed_tasks += 1
            print(f"  task {task.id} ({query!r}) failed: {task.error}", file=sys.stderr)
        return TaskRun(elapsed, task)

    async def search(self, query: str) -> tuple[float, int]:
        # make_plan is what TaskService.create runs: the same terms and countries the source will send.
        plan = make_plan(query, [])
        start = time.perf_counter()
        async with self.runtime.sessions() as session:
            rows = await search_companies(
                session, terms=plan.search_terms, countries=plan.constraints.countries, limit=DESIRED
            )
        return time.perf_counter() - start, len(rows)

    async def latency(self, queries: tuple[str, ...], repeats: int) -> list[QueryFigures]:
        rows = {q: QueryFigures(q) for q in queries}
        for query in queries:  # warm-up: first-use imports, statement caches, the database's page cache
            await self.search(query)
            await self.task(query)
        for _ in range(repeats):
            for query, row in rows.items():
                seconds, row.search_hits = await self.search(query)
                row.search_s.append(seconds)
                run = await self.task(query)
                row.task_s.append(run.seconds)
                row.results, row.candidates = run.task.num_results, run.task.num_results_discovered
        return list(rows.values())

    async def untimed_pass(self, rows: list[QueryFigures]) -> tuple[float, float]:
        """Python heap peaks (tracemalloc) of the bare searches and of the tasks, and the SQL each task's
        worker side ran; in one pass nobody times, as both tracers slow the code they watch."""
        tracemalloc.start()
        try:
            for row in rows:
                await self.search(row.query)
            search_peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.reset_peak()
            for row in rows:
                with self._counting_sql() as sql:
                    await self.task(row.query)
                row.sql_statements, row.sql_transactions = sql["statements"], sql["transactions"]
            task_peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        return task_peak / 2**20, search_peak / 2**20

    @contextlib.contextmanager
    def _counting_sql(self) -> Iterator[Counter[str]]:
        self._sql_counts = Counter()
        try:
            yield self._sql_counts
        finally:
            self._sql_counts = None

    def _listen_sql(self) -> None:
        """Count statements and transactions on the engine from every asyncio task but the bench's own (so the
        worker and the queue, not the create and the polling). procrastinate's connection is not this engine.

        Installed once, before the worker starts, and never removed: SQLite's `begin` hook awaits inside the
        event dispatch, and removing a listener meanwhile breaks SQLAlchemy's iteration over them."""
        me, engine = asyncio.current_task(), self.runtime.engine.sync_engine

        def count(kind: str) -> Callable[..., None]:
            def listener(*_args: object) -> None:
                if self._sql_counts is not None and asyncio.current_task() is not me:
                    self._sql_counts[kind] += 1
            return listener

        event.listen(engine, "before_cursor_execute", count("statements"))
        event.listen(engine, "begin", count("transactions"))

    async def concurrent(self, rounds: int, medians: dict[str, float]) -> ConcurrencyFigures:
        queries = [QUERIES[i % len(QUERIES)] for i in range(CONCURRENT_TASKS)]
        service = self.runtime.service
        samples, results = [], 0
        for _ in range(rounds):
            start = time.perf_counter()
            created = await asyncio.gather(
                *(service.create(self.caller, NewTask(query=q, desired_num_results=DESIRED)) for q in queries)
            )
            pending = {t.id for t in created}
            results = 0
            while pending:
                # One list call per poll for all 20, rather than 20 gets competing with the worker.
                for task in await service.list(self.caller, offset=0, limit=100):
                    if task.id in pending and task.status in FINISHED:
                        pending.discard(task.id)
                        results += task.num_results
                        self.figures.failed_tasks += task.status == "failed"
                if pending:
                    await asyncio.sleep(POLL_S)
            samples.append(time.perf_counter() - start)
        return ConcurrencyFigures(CONCURRENT_TASKS, WORKER_CONCURRENCY, Summary.of(samples), results,
                                  sum(medians.get(q, 0.0) for q in queries))


@contextlib.asynccontextmanager
async def running_bench(url: str, data_dir: Path, figures: BackendFigures) -> AsyncIterator[Bench]:
    settings = Settings(data_dir=data_dir, database_url=url, seed_builtin_companies=True,
                        worker=WorkerSettings(concurrency=WORKER_CONCURRENCY))
    async with open_runtime(settings, seed=True) as runtime:
        figures.companies_before = await count(runtime.sessions)
        caller = await accounts.local_caller(runtime.sessions)
        bench = Bench(runtime, caller, figures)  # before the worker: it installs engine listeners
        stop = asyncio.Event()
        worker = asyncio.create_task(run_worker(runtime, stop))
        try:
            yield bench
        finally:
            stop.set()
            await worker


@contextlib.contextmanager
def profiled(enabled: bool) -> Iterator[None]:
    if not enabled:
        yield
        return
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        print("\ncProfile of the task-latency phase (all coroutines of the process), top 25 by own time:")
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(25)


async def bench_backend(url: str, data_dir: Path, database: str, mode: Mode, profile: bool) -> BackendFigures:
    figures = BackendFigures(database)
    async with running_bench(url, data_dir, figures) as bench:
        step = time.perf_counter()
        rss_before = current_rss_mib()
        with profiled(profile):
            figures.queries = await bench.latency(QUERIES, mode.repeats)
        memory = (peak_rss_mib(), rss_before, current_rss_mib())
        print(f"  latency phase {time.perf_counter() - step:.1f} s", flush=True)
        figures.memory = MemoryFigures(*memory, *await bench.untimed_pass(figures.queries))
        medians = {r.query: r.task.median for r in figures.queries}
        figures.concurrency = await bench.concurrent(mode.concurrency_rounds, medians)
        for file in mode.files:
            if not file.path.exists():
                figures.notes.append(f"{file.path} not found: import skipped")
                continue
            step = time.perf_counter()
            figures.imports.append(await measure_import(bench.runtime.sessions, file, mode.parse_repeats))
            print(f"  import {file.path.name} {time.perf_counter() - step:.1f} s", flush=True)
        if figures.imports:
            figures.companies_after = await count(bench.runtime.sessions)
            figures.after_import = await bench.latency(AFTER_IMPORT_QUERIES, mode.repeats)
    return figures


def _pg_status() -> str | None:
    """The server's version if the local PostgreSQL answers, else None (the reason is printed)."""
    try:
        with psycopg.connect(PG_ADMIN, connect_timeout=2) as conn:
            row = conn.execute("SHOW server_version").fetchone()
    except psycopg.Error as exc:
        print(f"PostgreSQL skipped: {PG_ADMIN} is unreachable ({str(exc).strip().splitlines()[0]})")
        return None
    return str(row[0]).split()[0] if row else "?"


async def run(args: argparse.Namespace, mode: Mode) -> list[BackendFigures]:
    done: list[BackendFigures] = []
    with tempfile.TemporaryDirectory(prefix="firmscout-bench-") as tmp:
        if args.backend in ("sqlite", "both"):
            print("SQLite …", flush=True)
            done.append(await bench_backend(f"sqlite:///{tmp}/bench.db", Path(tmp), "SQLite", mode, args.profile))
            print(render(done[-1]), "\n", flush=True)
        if args.backend in ("postgresql", "both") and (version := _pg_status()):
            print("PostgreSQL …", flush=True)
            with pg_database("firmscout_bench") as url:
                done.append(await bench_backend(url, Path(tmp), f"PostgreSQL {version}", mode,
                                                args.profile and not done))
            print(render(done[-1]), "\n", flush=True)
    return done


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--repeats", type=int, help="runs per query (default 7, --quick 2)")
    parser.add_argument("--quick", action="store_true", help="about 30 s: fewer runs, YC import only")
    parser.add_argument("--write", action="store_true", help="rewrite docs/benchmarks.md even with --quick")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    parser.add_argument("--profile", action="store_true", help="cProfile the first backend's task-latency phase")
    args = parser.parse_args(argv)
    mode = QUICK if args.quick else DEFAULT
    if args.repeats:
        mode = Mode(mode.name, args.repeats, mode.concurrency_rounds, mode.files, mode.parse_repeats)
    print(machine_line(), flush=True)
    started = time.perf_counter()
    figures = asyncio.run(run(args, mode))
    print(f"Mode {mode.name}: {mode.repeats} runs per query, {mode.concurrency_rounds} concurrency "
          f"round{'s' if mode.concurrency_rounds != 1 else ''}; whole run {time.perf_counter() - started:.0f} s, "
          f"peak RSS of the process {peak_rss_mib():.0f} MiB (so the second backend's includes the first's).\n")
    if not figures:
        sys.exit("no backend ran")
    section = block(figures, mode.repeats)
    print(section)
    if args.no_write or (args.quick and not args.write):
        print("(docs/benchmarks.md not rewritten)")
        return
    write_section("pipeline", section)


if __name__ == "__main__":
    main()
