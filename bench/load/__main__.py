"""API and pipeline load on this machine.

    python -m bench.load [--seconds 10] [--connections 32] [--no-write]

API: a real `firmscout serve` process (SQLite, embedded default, started with --no-worker so only the API
is measured) under `wrk` (Debian package `wrk`), a C load generator, for GET of a task, GET of its results
and POST create. Pipeline: N tasks queued at once, then 1, 2 and 4 `firmscout worker` processes drain them,
on PostgreSQL (procrastinate) and on SQLite (embedded queue); tasks/minute and results/second.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg

from bench.common import pg_database, write_section
from tests.factories import cli_token, start_serve, stop

QUERIES = ["banks in Spain", "chemical companies in Germany", "Japanese carmakers", "US semiconductor companies",
           "insurance companies in Switzerland", "telecommunications companies in Europe"]


def _wrk(url: str, token: str, seconds: int, connections: int, script: str | None = None) -> dict[str, float]:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-H", f"Authorization: Bearer {token}"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def pct(p: str) -> float:
        value, unit = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": pct("50"), "p99": pct("99"), "errors": float(non2xx.group(1)) if non2xx else 0.0}


def api_load(seconds: int, connections: int) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "FIRMSCOUT_DATA_DIR": tmp, "FIRMSCOUT_BOOTSTRAP_TOKEN": "false",
               "FIRMSCOUT_API__CREATE_BURST": "100000000", "FIRMSCOUT_API__CREATES_PER_MINUTE": "100000000"}
        env.pop("FIRMSCOUT_DATABASE_URL", None)
        token = cli_token(env, "load@example.com", "Load")
        proc, base = start_serve(env)  # with its worker: one task to read back
        try:
            client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"})
            task_id = client.post("/v1/discovery_tasks", json={"query": "banks in Spain"}).json()["id"]
            while client.get(f"/v1/discovery_tasks/{task_id}").json()["status"] != "done":
                time.sleep(0.05)
        finally:
            stop(proc)
        proc, base = start_serve(env, "--no-worker")
        script = Path(tmp) / "create.lua"
        script.write_text('wrk.method = "POST"\nwrk.body = \'{"query": "banks in Spain", "desired_num_results": 5}\'\n'
                          'wrk.headers["Content-Type"] = "application/json"\n')
        rows = []
        try:
            for name, path, lua in (("GET task", f"/v1/discovery_tasks/{task_id}", None),
                                    ("GET results (50)", f"/v1/discovery_tasks/{task_id}/results", None),
                                    ("POST create", "/v1/discovery_tasks", str(script))):
                r = _wrk(base + path, token, seconds, connections, lua)
                rows.append(f"| {name} | {r['rps']:,.0f} | {r['p50']:.1f} | {r['p99']:.1f} | {r['errors']:.0f} |")
                print(rows[-1], flush=True)
        finally:
            stop(proc)
    return rows


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
        for workers in (1, 2, 4):
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
    api = api_load(args.seconds, args.connections)
    pipe = pipeline_load(args.tasks)
    section = "\n".join([
        "## Load", "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores ({platform.machine()}), Python "
        f"{platform.python_version()}. Rerun: `python -m bench.load` (needs `wrk`). Load generator and server "
        "share the machine's two cores, so these figures are a floor.", "",
        f"### API (one `firmscout serve --no-worker` process, SQLite, wrk -t2 -c{args.connections}, "
        f"{args.seconds} s each)", "",
        "| request | requests/s | p50 ms | p99 ms | non-2xx |", "|---|---:|---:|---:|---:|", *api, "",
        f"### Pipeline throughput ({args.tasks} queued tasks, 100 results asked each, built-in database)", "",
        "| database (queue) | workers | tasks/min | results/s | speed-up vs 1 worker |",
        "|---|---:|---:|---:|---:|", *pipe, "",
    ])
    print(section)
    if not args.no_write:
        write_section("load", section)

if __name__ == "__main__":
    main()
