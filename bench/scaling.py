"""Worker scaling: how pipeline throughput grows with 1, 2 and 4 `firmscout worker` processes on PostgreSQL,
against the one worker process a SQLite file allows.

    python -m bench.scaling [--tasks 40] [--rounds 2] [--backend sqlite|postgresql|both] [--baseline SRC]
                            [--no-write]

Once per backend, a template database is built: migrated, the built-in companies seeded and the shared
FinanceDatabase file imported (about 30,000 companies, so a task finds tens to hundreds of candidates
instead of a handful). Each run then works on a fresh copy (a file copy on SQLite, `CREATE DATABASE …
TEMPLATE` on PostgreSQL):

1. N worker processes start with default settings (N = 1, 2, 4 on PostgreSQL; 1 on SQLite, which one process
   owns) and, once each says it is waiting, are paused (SIGSTOP): their start-up is not throughput.
2. `--tasks` tasks (the query mix below, 100 results asked) are created through `TaskService.create` in this
   process, each with its job, as the API would.
3. The clock starts when the workers are resumed (SIGCONT) and stops when one SQL count says no task is
   unfinished. Progress is polled every 50 ms with that single statement on one open connection, not
   through the API, so the load generator costs the workers next to nothing.

Runs are interleaved (1, 2, 4 workers, then again) so that drift on the shared machine hits every worker
count; the table reports the median per count and the median of the per-round speed-ups. With
`--baseline SRC` each run is preceded by the same run with the workers importing the package under SRC (say
a checkout of main's src/), so old and new code meet the same machine load. CPU seconds of the workers, of
the PostgreSQL backends serving this database and of the whole machine are read from /proc for the timed
window, to show where the cores went.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import psycopg

from bench.common import PG_ADMIN, write_section
from bench.importer import FINANCE
from bench.stats import CLOCK_TICKS, host, machine_line, process_cpu_s
from firmscout.catalog.service import count, import_file
from firmscout.config import Settings
from firmscout.storage.dialects.sqlite import OWNER_SUFFIX
from firmscout.tasks import accounts
from firmscout.tasks.runtime import open_runtime
from firmscout.tasks.service import NewTask

QUERIES = ("banks in Germany", "Japanese carmakers", "chemical companies in Germany", "US semiconductor companies",
           "insurance companies in Switzerland", "oil and gas companies in Texas", "French luxury goods companies",
           "telecommunications companies in Europe")
DESIRED = 100
WORKER_COUNTS = (1, 2, 4)  # on PostgreSQL; SQLite has one (SQLiteBackend.worker_counts)
POLL_S = 0.05


@dataclass(frozen=True)
class Drain:
    variant: str
    workers: int
    seconds: float
    results: int
    candidates: int
    failed: int
    worker_cpu_s: float
    db_cpu_s: float
    machine_busy_cores: float

    @property
    def others_cores(self) -> float:
        """Cores used by everything else on the machine meanwhile (other users, this bench's polling)."""
        return max(0.0, self.machine_busy_cores - (self.worker_cpu_s + self.db_cpu_s) / self.seconds)



def _machine_busy_s() -> tuple[float, float]:
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / CLOCK_TICKS, time.monotonic()


# --- databases -------------------------------------------------------------------------------------------

class Backend(Protocol):
    name: str
    worker_counts: tuple[int, ...]

    def template(self, tmp: Path) -> str: ...
    def seal(self) -> None: ...
    def copy(self) -> AbstractContextManager[str]: ...
    def poller(self, url: str) -> AbstractContextManager[Callable[[], tuple[int, int, int, int]]]: ...
    def backend_pids(self, url: str) -> list[int]: ...
    def writable(self, url: str) -> bool: ...


def _ints(row: Any) -> tuple[int, int, int, int]:
    a, b, c, d = (int(v or 0) for v in row)
    return a, b, c, d


def _counts_sql() -> str:
    return ("SELECT SUM(CASE WHEN status IN ('done', 'failed') THEN 0 ELSE 1 END), COALESCE(SUM(num_results), 0), "
            "COALESCE(SUM(num_results_discovered), 0), SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) "
            "FROM discovery_task")


class SQLiteBackend:
    name = "SQLite"
    # One process owns a SQLite file (a second `firmscout worker` on it exits 1), so SQLite's row is the
    # single-process reference that the PostgreSQL rows scale from.
    worker_counts: tuple[int, ...] = (1,)

    def __init__(self, tmp: Path) -> None:
        self._tmp = tmp
        self._template = tmp / "template.db"

    def template(self, tmp: Path) -> str:
        return f"sqlite:///{self._template}"

    def seal(self) -> None:
        with sqlite3.connect(self._template) as conn:  # fold the WAL into the file before copying it
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    @contextmanager
    def copy(self) -> Iterator[str]:
        target = self._tmp / f"run-{uuid.uuid4().hex[:8]}.db"
        shutil.copyfile(self._template, target)
        try:
            yield f"sqlite:///{target}"
        finally:
            for suffix in ("", "-wal", "-shm", OWNER_SUFFIX):
                Path(f"{target}{suffix}").unlink(missing_ok=True)

    @contextmanager
    def poller(self, url: str) -> Iterator[Callable[[], tuple[int, int, int, int]]]:
        # One connection for the whole drain, in autocommit: each count sees the latest commits.
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=30, isolation_level=None)
        try:
            yield lambda: _ints(conn.execute(_counts_sql()).fetchone())
        finally:
            conn.close()

    def backend_pids(self, url: str) -> list[int]:
        return []  # SQLite runs inside the worker processes

    def writable(self, url: str) -> bool:
        # Free when a writer's lock can be taken at once: then no paused worker holds it.
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=0.1, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            conn.close()


class PostgresBackend:
    name = "PostgreSQL"
    worker_counts: tuple[int, ...] = WORKER_COUNTS

    def __init__(self) -> None:
        self._template = f"firmscout_scaling_tpl_{uuid.uuid4().hex[:8]}"
        self._server = PG_ADMIN.rsplit("/", 1)[0]
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=2) as conn:
            conn.execute(f'CREATE DATABASE "{self._template}"')
            self.version = str(conn.execute("SHOW server_version").fetchone()[0]).split()[0]  # type: ignore[index]

    def template(self, tmp: Path) -> str:
        return f"{self._server}/{self._template}"

    def seal(self) -> None:
        pass

    @contextmanager
    def copy(self) -> Iterator[str]:
        name = f"firmscout_scaling_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self._template}"')
        try:
            yield f"{self._server}/{name}"
        finally:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def drop(self) -> None:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self._template}" WITH (FORCE)')

    @contextmanager
    def poller(self, url: str) -> Iterator[Callable[[], tuple[int, int, int, int]]]:
        # One connection for the whole drain: a connection per poll would fork a PostgreSQL backend each time.
        with psycopg.connect(url, autocommit=True) as conn:
            yield lambda: _ints(conn.execute(_counts_sql()).fetchone())

    def writable(self, url: str) -> bool:
        return True  # task creation takes no lock a paused worker could hold (new rows, new jobs)

    def backend_pids(self, url: str) -> list[int]:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s",
                                (url.rsplit("/", 1)[1],)).fetchall()
        return [int(pid) for (pid,) in rows]


async def _build_template(url: str, data_dir: Path) -> int:
    settings = Settings(database_url=url, data_dir=data_dir, seed_builtin_companies=True)
    async with open_runtime(settings, seed=True) as runtime:
        await import_file(runtime.sessions, FINANCE.path, FINANCE.mapping)
        await accounts.local_caller(runtime.sessions)
        return await count(runtime.sessions)


async def _create_tasks(url: str, data_dir: Path, n: int) -> None:
    # A short-lived runtime that does not own the database, like the API's creates beside a SQLite worker.
    async with open_runtime(Settings(database_url=url, data_dir=data_dir, seed_builtin_companies=False)) as runtime:
        caller = await accounts.local_caller(runtime.sessions)
        for i in range(n):
            await runtime.service.create(caller, NewTask(query=QUERIES[i % len(QUERIES)], desired_num_results=DESIRED))


def _migrations(src: Path) -> set[str]:
    return {p.name for p in (src / "firmscout" / "storage" / "migrations" / "versions").glob("[0-9]*.py")}


def check_baseline(src: str) -> None:
    """Exit with the reason if the workers of `src` cannot run on this checkout's template database: they
    refuse a schema revision they do not know."""
    here, there = _migrations(Path(__file__).resolve().parents[1] / "src"), _migrations(Path(src))
    if not there:
        sys.exit(f"--baseline {src}: no firmscout migrations under it; pass a checkout's src/ directory")
    if here != there:
        sys.exit(f"--baseline {src}: its migrations differ from this checkout's ({', '.join(sorted(here ^ there))}),"
                 " so its workers cannot run on this checkout's database. `bench.load.api --baseline` can compare "
                 "them: it gives each checkout its own database.")


# --- one drain -------------------------------------------------------------------------------------------

def _start_workers(url: str, data_dir: Path, n: int, src: str | None) -> list[subprocess.Popen[bytes]]:
    env = {**os.environ, "FIRMSCOUT_DATABASE_URL": url, "FIRMSCOUT_DATA_DIR": str(data_dir),
           "FIRMSCOUT_SEED_BUILTIN_COMPANIES": "false", "FIRMSCOUT_BOOTSTRAP_TOKEN": "false"}
    if src:  # workers run another checkout's code (e.g. main) on the same database and task mix
        env["PYTHONPATH"] = os.pathsep.join(filter(None, (src, env.get("PYTHONPATH"))))
    logs = [data_dir / f"worker-{uuid.uuid4().hex[:6]}.log" for _ in range(n)]
    procs = []
    for log in logs:
        with log.open("wb") as out:
            procs.append(subprocess.Popen([sys.executable, "-m", "firmscout", "worker"], env=env,
                                          stdout=out, stderr=subprocess.STDOUT))
    deadline = time.monotonic() + 120
    while not all("waiting for tasks" in log.read_text() for log in logs):
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            raise RuntimeError("workers did not start: " + " | ".join(log.read_text()[-500:] for log in logs))
        time.sleep(0.05)
    time.sleep(0.3)  # past the start-up sweep and first idle poll
    return procs


def _pause(procs: list[subprocess.Popen[bytes]], backend: Backend, url: str) -> None:
    """SIGSTOP the workers, but never while one holds SQLite's write lock (an idle embedded worker claims
    in a short write transaction every poll): a frozen holder would lock the task creation out."""
    while True:
        for proc in procs:
            proc.send_signal(signal.SIGSTOP)
        if backend.writable(url):
            return
        for proc in procs:
            proc.send_signal(signal.SIGCONT)
        time.sleep(0.05)


def _stop_workers(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.send_signal(signal.SIGCONT)
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def drain(backend: Backend, data_dir: Path, workers: int, n_tasks: int, variant: str, src: str | None) -> Drain:
    with backend.copy() as url:
        procs = _start_workers(url, data_dir, workers, src)
        try:
            _pause(procs, backend, url)
            asyncio.run(_create_tasks(url, data_dir, n_tasks))
            db_pids = backend.backend_pids(url)
            cpu_before = {p.pid: process_cpu_s(p.pid) for p in procs}
            db_before = {pid: process_cpu_s(pid) for pid in db_pids}
            busy_before, _ = _machine_busy_s()
            started = time.perf_counter()
            for proc in procs:
                proc.send_signal(signal.SIGCONT)
            with backend.poller(url) as poll:
                while True:
                    unfinished, results, candidates, failed = poll()
                    if not unfinished:
                        break
                    time.sleep(POLL_S)
            seconds = time.perf_counter() - started
            busy_after, _ = _machine_busy_s()
            worker_cpu = sum(process_cpu_s(p.pid) - cpu_before[p.pid] for p in procs)
            db_pids_after = backend.backend_pids(url)
            db_cpu = sum(process_cpu_s(pid) - db_before.get(pid, 0.0) for pid in db_pids_after)
        finally:
            _stop_workers(procs)
    return Drain(variant, workers, seconds, results, candidates, failed, worker_cpu, db_cpu,
                 (busy_after - busy_before) / seconds)


def measure(backend: Backend, data_dir: Path, n_tasks: int, rounds: int, baseline: str | None) -> list[Drain]:
    variants: list[tuple[str, str | None]] = [("baseline", baseline)] if baseline else []
    variants.append(("this checkout", None))
    runs: list[Drain] = []
    for r in range(rounds):
        for workers in backend.worker_counts:
            for variant, src in variants:
                run = drain(backend, data_dir, workers, n_tasks, variant, src)
                runs.append(run)
                print(f"  {backend.name} round {r + 1}, {variant}: {workers} worker(s) {run.seconds:.2f} s, "
                      f"{run.results} results, {run.candidates} candidates, {run.failed} failed, worker CPU "
                      f"{run.worker_cpu_s:.1f} s, database CPU {run.db_cpu_s:.1f} s, machine "
                      f"{run.machine_busy_cores:.2f} cores busy ({run.others_cores:.2f} by others)", flush=True)
    return runs


def render(backend: Backend, runs: list[Drain], n_tasks: int, with_code: bool) -> list[str]:
    rows = []
    for variant in dict.fromkeys(r.variant for r in runs):
        by_count = {w: [r for r in runs if r.workers == w and r.variant == variant] for w in backend.worker_counts}
        base = by_count[1]
        for workers, mine in by_count.items():
            med = statistics.median(r.seconds for r in mine)
            ratios = [b.seconds / r.seconds for b, r in zip(base, mine, strict=True)]
            spread = f" ({min(ratios):.2f}–{max(ratios):.2f})" if len(ratios) > 1 else ""
            worker_ms = statistics.median(r.worker_cpu_s / n_tasks * 1000 for r in mine)
            db_ms = statistics.median(r.db_cpu_s / n_tasks * 1000 for r in mine)
            busy = statistics.median(r.machine_busy_cores for r in mine)
            others = statistics.median(r.others_cores for r in mine)
            code = f" {variant} |" if with_code else ""
            rows.append(
                f"| {backend.name} |{code} {workers} | {med:.2f} | {n_tasks / med * 60:,.0f} | "
                f"{statistics.median(r.results for r in mine) / med:,.0f} | **{statistics.median(ratios):.2f}×**"
                f"{spread} | {worker_ms:.0f} | {db_ms:.0f} | {busy:.2f} | {others:.2f} | "
                f"{sum(r.failed for r in mine)} |"
            )
    return rows


def section(rows: list[str], notes: list[str], *, n_tasks: int, companies: int, rounds: int,
            baseline: str | None) -> str:
    """The `scaling` block of docs/benchmarks.md; the method is written by hand beside it."""
    code = f"; code: baseline = workers importing `{baseline}`, each run right before this checkout's" \
        if baseline else ""
    return "\n".join([
        f"Host: {host()}. {n_tasks} tasks on {companies:,} companies, {rounds} round{'s' if rounds != 1 else ''} per "
        f"worker count{code}:", "",
        "| database |" + (" code |" if baseline else "") + " workers | drain s | tasks/min | results/s | speed-up "
        "vs 1 worker | worker CPU ms/task | PostgreSQL CPU ms/task | machine busy (cores) | of which others | "
        "failed |",
        "|---|" + ("---|" if baseline else "") + "---:|" * 10, *rows, *([""] if notes else []), *notes,
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--baseline", metavar="SRC",
                        help="also run workers with the package under SRC (e.g. a checkout of main's src/), "
                             "interleaved with this checkout's")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if args.baseline:
        check_baseline(args.baseline)
    print(machine_line(), flush=True)
    began = time.perf_counter()
    table: list[str] = []
    companies = 0
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="firmscout-scaling-") as tmp:
        data_dir = Path(tmp)
        backends: list[Backend] = []
        if args.backend in ("postgresql", "both"):
            try:
                backends.append(PostgresBackend())
            except psycopg.Error as exc:
                notes.append(f"PostgreSQL skipped: {str(exc).strip().splitlines()[0]}")
        if args.backend in ("sqlite", "both"):
            backends.append(SQLiteBackend(data_dir))
        try:
            for backend in backends:
                print(f"{backend.name}: building the template database …", flush=True)
                companies = asyncio.run(_build_template(backend.template(data_dir), data_dir))
                backend.seal()
                runs = measure(backend, data_dir, args.tasks, args.rounds, args.baseline)
                table += render(backend, runs, args.tasks, with_code=bool(args.baseline))
        finally:
            for backend in backends:
                if isinstance(backend, PostgresBackend):
                    backend.drop()
    print(f"whole run {time.perf_counter() - began:.0f} s\n")
    text = section(table, notes, n_tasks=args.tasks, companies=companies, rounds=args.rounds,
                   baseline=args.baseline)
    print(text)
    if not args.no_write:
        write_section("scaling", text)

if __name__ == "__main__":
    main()
