"""Live task events: how soon an SSE client hears of a change, and what many open streams cost the API process.

    python -m bench.events [--db sqlite|postgresql] [--streams 500] [--events 60] [--hold 20] [--no-write]

One `firmscout serve --no-worker` process (a temporary SQLite file, or a throwaway PostgreSQL database) with
FIRMSCOUT_API__EVENTS_POLL_S as `--poll-s` (default 0.5, the setting's default).

1. **Latency.** A task is created and one stream opened on it. Then, `--events` times, after a random pause
   of up to one poll interval (so the change lands at a random point of the server's poll cycle), this
   process bumps the task's `prompt_tokens` with one committed UPDATE, on its own connection, and times from
   the commit's return to the `progress` event carrying the new count. This process stands in for a worker in
   another process: a real worker would finish a task in ~30 ms, too fast to leave changes to time, and the
   stream sees only committed rows either way. Expected median: half the poll interval plus the read.
2. **Open streams.** `--streams` streams are opened on 5 tasks that nobody runs (no worker), so they stay
   open and get a heartbeat every 15 s. The API process's VmRSS is read from /proc after one warm-up stream,
   once all are open, and every second for `--hold` seconds; a stream counts as held if it neither ended nor
   failed and saw a heartbeat.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench.common import pg_database, write_section
from bench.load.api import HERE, _code, _serve, _token
from bench.stats import host, machine_line, nearest_rank, process_cpu_s

URL = "/v1/discovery_tasks"
TARGET_MEDIAN_S = 1.0
TARGET_STREAMS, TARGET_EXTRA_MB = 500, 200
TASKS = 5  # the streams are spread over this many tasks
_BUMP = "UPDATE discovery_task SET prompt_tokens = prompt_tokens + 1 WHERE id = "


@dataclass(frozen=True)
class Streams:
    asked: int
    opened: int
    held: int  # still open at the end of the hold, with a heartbeat seen
    open_s: float  # from the first request to the last stream's first event
    rss_before_mib: float
    rss_open_mib: float
    rss_peak_mib: float
    cpu_cores: float  # the API process's CPU during the hold

    @property
    def extra_mib(self) -> float:
        return self.rss_peak_mib - self.rss_before_mib


def vmrss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


@contextmanager
def bumper(url: str) -> Iterator[Callable[[str], None]]:
    """A function that adds one to a task's prompt_tokens and commits, on a connection of this process."""
    if url.startswith("sqlite"):
        lite = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=30, isolation_level=None)  # autocommit

        def bump_sqlite(task_id: str) -> None:
            lite.execute(_BUMP + "?", (task_id,))

        try:
            yield bump_sqlite
        finally:
            lite.close()
    else:
        with psycopg.connect(url, autocommit=True) as pg:

            def bump_pg(task_id: str) -> None:
                pg.execute(_BUMP + "%s", (task_id,))

            yield bump_pg


async def sse(response: httpx.Response) -> AsyncIterator[tuple[float, str, dict[str, Any]]]:
    """(arrival time, event kind or "heartbeat", data) for each block of an event stream."""
    buffer = ""
    async for text in response.aiter_text():
        buffer += text
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            fields = dict(line.split(": ", 1) for line in block.split("\n") if not line.startswith(":"))
            if not fields:
                yield time.monotonic(), "heartbeat", {}
            else:
                yield time.monotonic(), fields["event"], json.loads(fields["data"])


async def _tasks(client: httpx.AsyncClient, n: int) -> list[str]:
    return [(await client.post(URL, json={"query": f"banks in Spain {i}"})).raise_for_status().json()["id"]
            for i in range(n)]


async def latency(client: httpx.AsyncClient, url: str, n: int, poll_s: float) -> list[float]:
    """Seconds from each committed change to its `progress` event reaching this client."""
    (task_id,) = await _tasks(client, 1)
    arrivals: asyncio.Queue[tuple[float, int]] = asyncio.Queue()
    samples: list[float] = []
    pause = random.Random(14)

    async def read(response: httpx.Response) -> None:
        async for at, kind, data in sse(response):
            if kind in ("status", "progress"):
                arrivals.put_nowait((at, data["usage"]["prompt_tokens"]))

    async with client.stream("GET", f"{URL}/{task_id}/events") as response:
        response.raise_for_status()
        reader = asyncio.create_task(read(response))
        await asyncio.wait_for(arrivals.get(), 30)  # the opening `status` event: the task as it was
        with bumper(url) as bump:
            for i in range(1, n + 1):
                await asyncio.sleep(pause.uniform(0, poll_s))
                bump(task_id)  # blocking: nothing can arrive before it returns
                changed = time.monotonic()
                at, tokens = await asyncio.wait_for(arrivals.get(), 30)
                if tokens != i:
                    raise RuntimeError(f"event {i} carried prompt_tokens {tokens}")
                samples.append(at - changed)
        reader.cancel()
    return samples


async def streams(client: httpx.AsyncClient, pid: int, n: int, hold_s: float) -> Streams:
    """Open `n` streams on a few tasks, hold them, and read the API process's memory and CPU meanwhile."""
    task_ids = await _tasks(client, TASKS)
    async with client.stream("GET", f"{URL}/{task_ids[0]}/events") as warm:  # imports and caches, unmeasured
        await anext(sse(warm))
    await asyncio.sleep(1)
    before = vmrss_mib(pid)
    opened, heartbeats, done = [asyncio.Event() for _ in range(n)], [0] * n, [False] * n

    async def hold(i: int) -> None:
        try:
            async with client.stream("GET", f"{URL}/{task_ids[i % TASKS]}/events") as response:
                response.raise_for_status()
                async for _, kind, _ in sse(response):
                    opened[i].set()
                    heartbeats[i] += kind == "heartbeat"
        except httpx.HTTPError as e:
            print(f"stream {i}: {type(e).__name__}: {e}", flush=True)
        finally:
            done[i] = True
            opened[i].set()

    started = time.monotonic()
    holders = [asyncio.create_task(hold(i)) for i in range(n)]
    await asyncio.wait_for(asyncio.gather(*(e.wait() for e in opened)), 300)
    open_s = time.monotonic() - started
    n_opened = sum(not d for d in done)
    rss_open = peak = vmrss_mib(pid)
    cpu = process_cpu_s(pid)
    for _ in range(int(hold_s)):
        await asyncio.sleep(1)
        peak = max(peak, vmrss_mib(pid))
    cores = (process_cpu_s(pid) - cpu) / int(hold_s)
    held = sum(not d and h > 0 for d, h in zip(done, heartbeats, strict=True))
    for holder in holders:
        holder.cancel()
    await asyncio.gather(*holders, return_exceptions=True)
    return Streams(n, n_opened, held, open_s, before, rss_open, peak, cores)


async def measure(url: str, tmp: Path, n_events: int, n_streams: int, hold_s: float,
                  poll_s: float) -> tuple[list[float], Streams]:
    code = _code("this branch", HERE)
    env = {**os.environ, "FIRMSCOUT_DATA_DIR": str(tmp), "FIRMSCOUT_BOOTSTRAP_TOKEN": "false",
           "FIRMSCOUT_DATABASE_URL": url, "FIRMSCOUT_API__EVENTS_POLL_S": str(poll_s),
           "FIRMSCOUT_API__CREATE_BURST": "1000", "FIRMSCOUT_API__CREATES_PER_MINUTE": "1000"}
    token = _token(code, env)
    with _serve(code, env, "--no-worker") as (proc, base):
        limits = httpx.Limits(max_connections=n_streams + 10, max_keepalive_connections=n_streams + 10)
        # Reads wait up to 60 s: a held stream is quiet for 15 s between heartbeats.
        async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}, limits=limits,
                                     timeout=httpx.Timeout(30, read=60)) as client:
            samples = await latency(client, url, n_events, poll_s)
            print(f"latency: {len(samples)} events, median {statistics.median(samples) * 1000:.0f} ms", flush=True)
            return samples, await streams(client, proc.pid, n_streams, hold_s)


def report(database: str, samples: list[float], s: Streams, poll_s: float, hold_s: float) -> str:
    ordered = sorted(samples)
    median, p95 = statistics.median(ordered), nearest_rank(ordered, 0.95)
    per_stream_kib = s.extra_mib * 1024 / s.held if s.held else float("nan")
    extra_mb = s.extra_mib * 2**20 / 1e6
    lines = [
        f"Host: {host()}. {database}, one `firmscout serve --no-worker` process, events poll {poll_s:g} s:", "",
        "| measure | figure |", "|---|---|",
        f"| change → `progress` event received ({len(ordered)} changes, committed by another process) | "
        f"median {median * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, min {ordered[0] * 1000:.0f}, "
        f"max {ordered[-1] * 1000:.0f} ms |",
        f"| {s.asked} streams on {TASKS} tasks | {s.opened} opened in {s.open_s:.1f} s; {s.held} held {hold_s:g} s "
        "with a heartbeat |",
        f"| API process RSS | {s.rss_before_mib:.0f} MiB before, {s.rss_open_mib:.0f} with the streams open, peak "
        f"{s.rss_peak_mib:.0f}: **+{s.extra_mib:.0f} MiB** ({per_stream_kib:.0f} KiB per stream) |",
        f"| API process CPU while holding them | {s.cpu_cores:.2f} cores |", "",
        f"Target, median under {TARGET_MEDIAN_S:g} s: {'met' if median < TARGET_MEDIAN_S else 'NOT met'} "
        f"({median * 1000:.0f} ms).",
    ]
    if s.asked < TARGET_STREAMS:
        lines.append(f"Target, {TARGET_STREAMS} streams under {TARGET_EXTRA_MB} MB: not tried ({s.asked} streams).")
    else:
        ok = s.held == s.asked and extra_mb < TARGET_EXTRA_MB
        lines.append(f"Target, {TARGET_STREAMS} streams under {TARGET_EXTRA_MB} MB extra: "
                     f"{'met' if ok else 'NOT met'} ({s.held} of {s.asked} held, +{extra_mb:.0f} MB).")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--streams", type=int, default=TARGET_STREAMS)
    parser.add_argument("--events", type=int, default=60, help="changes timed for the latency")
    parser.add_argument("--hold", type=float, default=20, help="seconds to hold the streams (heartbeat: 15 s)")
    parser.add_argument("--poll-s", type=float, default=0.5, help="FIRMSCOUT_API__EVENTS_POLL_S of the server")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    print(machine_line(), flush=True)
    with tempfile.TemporaryDirectory(prefix="events-") as tmp:
        if args.db == "postgresql":
            with pg_database("firmscout_events") as url:
                samples, s = asyncio.run(measure(url, Path(tmp), args.events, args.streams, args.hold, args.poll_s))
        else:
            samples, s = asyncio.run(measure(f"sqlite:///{tmp}/events.db", Path(tmp), args.events, args.streams,
                                             args.hold, args.poll_s))
    text = report({"sqlite": "SQLite", "postgresql": "PostgreSQL"}[args.db], samples, s, args.poll_s, args.hold)
    print(text)
    if not args.no_write:
        write_section(f"events-{args.db}", text)


if __name__ == "__main__":
    main()
