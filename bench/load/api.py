"""API throughput of real `firmscout serve` processes under wrk, with the CPU time the servers used.

    python -m bench.load.api [--processes 1 2] [--db sqlite postgresql] [--baseline SRC]
                             [--seconds 10] [--connections 32] [--no-write]

For each database and API process count: a task is created and run to `done` first (serve with its worker),
then `serve --no-worker --workers N` is started (N > 1 on PostgreSQL only: one process owns a SQLite file)
and `wrk -t2 -cC -dS` (Debian package `wrk`) sends GET of the task, GET of its results and POST create.
Printed per request: requests/s, p50 and p99 latency, non-2xx, and the CPU seconds the server processes
(parent and children, from /proc) used during the wrk run, with requests per CPU-second: on a machine whose
cores the load generator shares, that is the fairer figure.
*Server p99* is the servers' own time per request over the same window, from their JSON access log
(`duration_ms`: from the request reaching the app to its last byte handed to uvicorn), so what wrk's p99
adds on top is queueing in the sockets and the event loop, and the load generator's own scheduling.
`--baseline SRC` runs another checkout (e.g. a `main` worktree, or its src/; its .venv if it has one) in the
same run, one process only, so the rows are measured under the same conditions.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx

from bench.common import pg_database, write_section
from bench.stats import nearest_rank, process_cpu_s

HERE = Path(__file__).resolve().parents[2]
CREATE_LUA = ('wrk.method = "POST"\nwrk.body = \'{"query": "banks in Spain", "desired_num_results": 5}\'\n'
              'wrk.headers["Content-Type"] = "application/json"\n')


@dataclass(frozen=True)
class Code:
    label: str
    python: str
    src: Path  # the directory holding the `firmscout` package
    baseline: bool

    def env(self, base: dict[str, str]) -> dict[str, str]:
        return {**base, "PYTHONPATH": str(self.src)}


@dataclass(frozen=True)
class Result:
    code: str
    database: str
    processes: int
    request: str
    rps: float
    p50: float
    p99: float
    server_p99: float  # nan: the server logged no durations (an older checkout)
    errors: float
    cpu_s: float
    requests: float

    def row(self, with_code: bool = True) -> str:
        per_cpu = self.requests / self.cpu_s if self.cpu_s else 0.0
        server = "–" if math.isnan(self.server_p99) else f"{self.server_p99:.1f}"
        code = f"| {self.code} " if with_code else ""
        return (f"{code}| {self.database} | {self.processes} | {self.request} | {self.rps:,.0f} | "
                f"{self.p50:.1f} | {self.p99:.1f} | {server} | {self.errors:.0f} | {self.cpu_s:.1f} | "
                f"{per_cpu:,.0f} |")


def _code(label: str, path: Path, *, baseline: bool = False) -> Code:
    """The code of a checkout, given as its root or its src/; run by the checkout's .venv if it has one."""
    path = path.resolve()
    src = path if (path / "firmscout").is_dir() else path / "src"
    if not (src / "firmscout").is_dir():
        sys.exit(f"{path} holds no firmscout package (looked in it and in its src/): pass a checkout or its src/")
    venv = src.parent / ".venv" / "bin" / "python"
    if baseline:
        label = f"{label} ({src.parent.name})"
    return Code(label, str(venv if venv.exists() else sys.executable), src, baseline)


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _group_cpu(pid: int) -> dict[int, float]:
    return {p: process_cpu_s(p) for p in [pid, *_children(pid)]}


def _wrk(url: str, token: str, seconds: int, connections: int, script: str | None) -> dict[str, float]:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-H", f"Authorization: Bearer {token}"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout

    def pct(p: str) -> float:
        value, unit = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    total = re.search(r"(\d+) requests in", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
            "p50": pct("50"), "p99": pct("99"), "requests": float(total.group(1)) if total else 0.0,
            "errors": float(non2xx.group(1)) if non2xx else 0.0}


def server_p99(log: Path, method: str, path: str, start: float, end: float) -> float:
    """p99 (nearest rank) of the `duration_ms` the servers logged for `method path` between two wall times."""
    durations = []
    for line in log.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
            at = datetime.fromisoformat(entry["ts"]).timestamp()
        except (ValueError, KeyError, TypeError):
            continue  # not an access-log line (or one cut by the other process's write)
        if (start <= at <= end and entry.get("method") == method and entry.get("path") == path
                and "duration_ms" in entry):
            durations.append(float(entry["duration_ms"]))
    return nearest_rank(sorted(durations), 0.99) if durations else math.nan


@contextmanager
def _serve(code: Code, env: dict[str, str], *args: str,
           log: Path | None = None) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    # The servers log JSON to stderr; kept in `log` when given, for their own request durations.
    log_file = log.open("wb") if log is not None else None
    proc = subprocess.Popen([code.python, "-m", "firmscout", "serve", "--port", str(port), *args],
                            env=code.env(env), stdout=subprocess.DEVNULL, stderr=log_file or subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{code.label}: firmscout serve exited with {proc.returncode}")
            try:
                if httpx.get(f"{base}/v1/healthcheck", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{code.label}: firmscout serve did not come up")
            time.sleep(0.1)
        yield proc, base
    finally:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if log_file is not None:
            log_file.close()


def _token(code: Code, env: dict[str, str]) -> str:
    run = subprocess.run([code.python, "-m", "firmscout", "token", "create", "--email", "load@example.com",
                          "--org", "Load"], env=code.env(env), capture_output=True, text=True, check=True)
    return run.stdout.strip().splitlines()[-1]


def _finished_task(code: Code, env: dict[str, str], token: str) -> tuple[str, int]:
    with _serve(code, env, "--worker") as (_, base):
        client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        task_id = client.post("/v1/discovery_tasks", json={"query": "banks in Spain"}).json()["id"]
        deadline = time.monotonic() + 120
        while (task := client.get(f"/v1/discovery_tasks/{task_id}").json())["status"] != "done":
            if time.monotonic() > deadline:
                raise RuntimeError(f"task did not finish: {task}")
            time.sleep(0.05)
    return task_id, int(task["num_results"])


def measure(code: Code, database: str, url: str | None, tmp: Path, processes: list[int], seconds: int,
            connections: int) -> list[Result]:
    env = {**os.environ, "FIRMSCOUT_DATA_DIR": str(tmp), "FIRMSCOUT_BOOTSTRAP_TOKEN": "false",
           "FIRMSCOUT_WORKER__POLL_INTERVAL_S": "0.05",
           "FIRMSCOUT_API__CREATE_BURST": "100000000", "FIRMSCOUT_API__CREATES_PER_MINUTE": "100000000"}
    env.pop("FIRMSCOUT_DATABASE_URL", None)
    if url:
        env["FIRMSCOUT_DATABASE_URL"] = url
    token = _token(code, env)
    task_id, n_results = _finished_task(code, env, token)
    script = tmp / "create.lua"
    script.write_text(CREATE_LUA)
    results = []
    for n in processes:
        log = tmp / f"serve-{n}.log"
        with _serve(code, env, "--no-worker", *(["--workers", str(n)] if n > 1 else []), log=log) as (proc, base):
            deadline = time.monotonic() + 60
            while len([p for p in _children(proc.pid) if b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()
                       ]) < n - 1:
                if time.monotonic() > deadline:
                    raise RuntimeError("API processes did not start")
                time.sleep(0.1)
            # Warm-up, unmeasured: every process opens its connections and fills its token cache.
            _wrk(f"{base}/v1/discovery_tasks/{task_id}", token, 2, connections, None)
            for name, method, path, lua in (
                    ("GET task", "GET", f"/v1/discovery_tasks/{task_id}", None),
                    (f"GET results ({n_results})", "GET", f"/v1/discovery_tasks/{task_id}/results", None),
                    ("POST create", "POST", "/v1/discovery_tasks", str(script))):
                before = _group_cpu(proc.pid)
                started = time.time()
                r = _wrk(base + path, token, seconds, connections, lua)
                ended = time.time()
                after = _group_cpu(proc.pid)
                cpu = sum(after[p] - before.get(p, 0.0) for p in after)
                time.sleep(0.5)  # the servers' last log lines reach the file
                own = server_p99(log, method, path, started, ended)
                results.append(Result(code.label, database, n, name, r["rps"], r["p50"], r["p99"], own,
                                      r["errors"], cpu, r["requests"]))
                print(results[-1].row(), flush=True)
    return results


def process_counts(database: str, processes: list[int]) -> list[int]:
    """The API process counts to run: more than one only on PostgreSQL, since one process owns a SQLite file."""
    if database == "postgresql":
        return processes
    if skipped := [n for n in processes if n != 1]:
        print(f"sqlite: {', '.join(map(str, skipped))} API processes skipped: one process serves a SQLite file; "
              "more need PostgreSQL", flush=True)
    return [n for n in processes if n == 1]


def api_table(processes: list[int], databases: list[str], baseline: Path | None, seconds: int,
              connections: int) -> list[Result]:
    codes = [_code("this branch", HERE)]
    if baseline is not None:
        codes.insert(0, _code("baseline", baseline, baseline=True))
    rows: list[Result] = []
    for database in databases:
        if not (counts := process_counts(database, processes)):
            continue
        for code in codes:
            # A baseline runs one process: its row is the reference the same run's rows are read against.
            runs = [1] if code.baseline else counts
            with tempfile.TemporaryDirectory(prefix="apispeed-") as tmp:
                if database == "postgresql":
                    with pg_database("apispeed_load") as url:
                        rows += measure(code, database, url, Path(tmp), runs, seconds, connections)
                else:
                    rows += measure(code, database, None, Path(tmp), runs, seconds, connections)
    return rows


def _processes(n: int) -> str:
    return f"{n} process{'es' if n > 1 else ''}"


def verdicts(results: list[Result]) -> str:
    """Issue 4's targets (GET task >= 1,000/s with p99 < 50 ms; creates >= 200/s) over this branch's rows."""
    met: list[str] = []
    missed: list[str] = []
    for r in results:
        if r.code != "this branch":
            continue
        where = f"{r.database}, {_processes(r.processes)}"
        if r.request == "GET task":
            (met if r.rps >= 1000 and r.p99 < 50 else missed).append(
                f"GET task on {where} ({r.rps:,.0f}/s, p99 {r.p99:.0f} ms)")
        elif r.request == "POST create":
            (met if r.rps >= 200 else missed).append(f"creates on {where} ({r.rps:,.0f}/s)")
    return ("Issue 4 targets (GET task ≥ 1,000/s with p99 < 50 ms; creates ≥ 200/s): "
            + (f"met by {'; '.join(met)}." if met else "none met.")
            + (f" NOT met by {'; '.join(missed)}." if missed else ""))


def section(results: list[Result], seconds: int, connections: int, baseline: Path | None = None) -> str:
    """The `load-api` block of docs/benchmarks.md; how to read it is written by hand beside it."""
    code = f"; baseline = `{baseline}`, one process, in the same run" if baseline is not None else ""
    with_code = any(r.code != "this branch" for r in results)
    return "\n".join([
        f"API, `wrk -t2 -c{connections}`, {seconds} s per request, Python {platform.python_version()}{code}:", "",
        ("| code " if with_code else "") + "| database | API processes | request | requests/s | p50 ms | p99 ms "
        "| server p99 ms | non-2xx | server CPU s | req/CPU-s |",
        ("|---" if with_code else "") + "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|",
        *[r.row(with_code) for r in results], "", verdicts(results),
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2],
                        help="API process counts; more than 1 only on PostgreSQL")
    parser.add_argument("--db", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"])
    parser.add_argument("--baseline", type=Path,
                        help="another checkout (or its src/) to measure first, one process, e.g. of main")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench.load.api needs wrk, the HTTP load generator: apt-get install wrk")
    results = api_table(args.processes, args.db, args.baseline, args.seconds, args.connections)
    text = section(results, args.seconds, args.connections, args.baseline)
    print(text)
    if not args.no_write:
        write_section("load-api", text)


if __name__ == "__main__":
    main()
