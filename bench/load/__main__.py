"""API and pipeline load on this machine.

    python -m bench.load [--seconds 10] [--connections 32] [--no-write]

API: `bench.load.api` (one real `firmscout serve --no-worker` process on SQLite under `wrk`, the C load
generator of Debian package `wrk`, for GET of a task, GET of its results and POST create; run it alone for
PostgreSQL, several API processes and a baseline checkout). Pipeline: N tasks queued at once through the
API, then `firmscout worker` processes drain them: 1, 2 and 4 on PostgreSQL (procrastinate), 1 on SQLite
(the embedded queue; one process owns the file); tasks/minute and results/second. `bench.scaling`
measures worker scaling more closely.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psycopg

from bench.common import pg_database, write_section
from bench.load.api import api_table
from bench.load.api import section as api_section
from tests.factories import cli_token, start_serve, stop

# One process owns a SQLite file, so its worker count is 1; PostgreSQL takes any number.
WORKER_COUNTS = {"postgresql": (1, 2, 4), "sqlite": (1,)}
QUERIES = ["banks in Spain", "chemical companies in Germany", "Japanese carmakers", "US semiconductor companies",
           "insurance companies in Switzerland", "telecommunications companies in Europe"]


def _worker_env(database_url: str, data_dir: str) -> dict[str, str]:
    env = {**os.environ, "FIRMSCOUT_DATABASE_URL": database_url, "FIRMSCOUT_DATA_DIR": data_dir,
           "FIRMSCOUT_SEED_BUILTIN_COMPANIES": "true", "FIRMSCOUT_WORKER__POLL_INTERVAL_S": "0.05",
           "FIRMSCOUT_BOOTSTRAP_TOKEN": "false"}
    return env


def _drain(database_url: str, workers: int, n_tasks: int, tmp: str) -> tuple[float, int]:
    """Start `workers` worker processes, then time them draining n_tasks created through the API."""
    env = _worker_env(database_url, tmp)
    env["FIRMSCOUT_API__CREATE_BURST"] = "1000000"
    token = cli_token(env, f"w{workers}@example.com", "Load")
    proc, base = start_serve(env, "--no-worker")
    try:
        client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        # Workers first, and only once each says it is waiting: their start-up is not pipeline throughput.
        logs = [Path(tmp) / f"worker{i}.log" for i in range(workers)]
        procs = []
        for log in logs:
            with log.open("wb") as out:
                procs.append(subprocess.Popen([sys.executable, "-m", "firmscout", "worker"], env=env,
                                              stdout=subprocess.DEVNULL, stderr=out))
        deadline = time.monotonic() + 60
        while not all("waiting for tasks" in log.read_text() for log in logs):
            if time.monotonic() > deadline:
                raise RuntimeError("workers did not start")
            time.sleep(0.05)
        started = time.perf_counter()
        ids = [client.post("/v1/discovery_tasks", json={"query": QUERIES[i % len(QUERIES)],
                                                        "desired_num_results": 100}).json()["id"]
               for i in range(n_tasks)]
        try:
            pending = set(ids)
            results = 0
            while pending:
                for task_id in list(pending):
                    task = client.get(f"/v1/discovery_tasks/{task_id}").json()
                    if task["status"] in ("done", "failed"):
                        pending.discard(task_id)
                        results += task["num_results"]
                time.sleep(0.05)
            elapsed = time.perf_counter() - started
        finally:
            for p in procs:
                stop(p)
    finally:
        stop(proc)
    return elapsed, results


def pipeline_load(n_tasks: int) -> list[str]:
    rows = []
    for backend in ("postgresql", "sqlite"):
        base_elapsed = None
        for workers in WORKER_COUNTS[backend]:
            with tempfile.TemporaryDirectory() as tmp:
                if backend == "postgresql":
                    try:
                        with pg_database("firmscout_load") as url:
                            elapsed, results = _drain(url, workers, n_tasks, tmp)
                    except psycopg.Error as exc:
                        print(f"PostgreSQL skipped: {exc}")
                        break
                else:
                    elapsed, results = _drain(f"sqlite:///{tmp}/load.db", workers, n_tasks, tmp)
            base_elapsed = base_elapsed or elapsed
            queue = "procrastinate" if backend == "postgresql" else "embedded"
            rows.append(f"| {backend} ({queue}) | {workers} | {n_tasks / elapsed * 60:,.0f} | "
                        f"{results / elapsed:,.0f} | {base_elapsed / elapsed:.2f}× |")
            print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--tasks", type=int, default=60)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench.load needs wrk, the HTTP load generator: apt-get install wrk")
    api = api_table([1], ["sqlite"], None, args.seconds, args.connections)
    pipe = pipeline_load(args.tasks)
    section = "\n".join([
        "<!-- load-api:start -->", api_section(api, args.seconds, args.connections), "<!-- load-api:end -->", "",
        f"`bench.load`'s pipeline throughput ({args.tasks} queued tasks, built-in database), superseded by Worker "
        "scaling:", "",
        "| database (queue) | workers | tasks/min | results/s | speed-up vs 1 worker |",
        "|---|---:|---:|---:|---:|", *pipe,
    ])
    print(section)
    if not args.no_write:
        write_section("load", section)


if __name__ == "__main__":
    main()
