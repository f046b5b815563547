"""Discovering companies on the open web: precision, recall, cost and speed of `web_search` tasks, beside
the search engine's own top results.

    python -m bench.web_discovery [--seed 0] [--queries N] [--no-write]

A generated web (`tests.servers.discovery_web`: company sites, ranking and directory pages, LinkedIn and
Crunchbase profiles, job boards, news, service firms and associations, each query's truth) is served by a
child process: the loopback forward proxy and a SearXNG-compatible engine ranking its pages by BM25. This
process runs each query as a user would: a task with `data_sources: ["web_search"]`, 25 results wanted, no
company database, default politeness (1 s between two fetches from a host, 1 s between two searches), on a
fresh SQLite file, with the worker in this process.

Per query: precision of the task's results (those the API shows), recall@25 (truth among the first 25,
over min(25, truth)), searches and pages fetched per result, and results per minute of the task's wall
clock. The baseline, in the same run: the company domains among the engine's first 25 results for the query
as typed (an oracle that knows which domains are companies). Per half, precision is pooled over all its
results (a query that returned nothing weighs nothing) and recall is the mean over its queries. Queries
alternate between the tuning half and the held-out half; the targets apply to the held-out half.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.common import write_section
from bench.stats import machine_line, process_cpu_s
from bench.web import seam
from firmscout.config import Settings
from firmscout.domains import registered_domain
from firmscout.tasks import accounts
from firmscout.tasks.runtime import open_runtime
from firmscout.tasks.service import NewTask
from firmscout.worker import run_worker
from tests.servers.discovery_web import TOPICS, DiscoveryWeb, discovery_web
from tests.servers.search_api import SearchApiServer
from tests.servers.web import loopback_web

WANTED = 25
# The issue's targets, on the held-out half.
PRECISION_TARGET, RECALL_TARGET, OVER_BASELINE_TARGET, PER_MINUTE_TARGET = 0.7, 0.6, 1.3, 30.0


# --- scoring (pure) ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    query: str
    held_out: bool
    found: tuple[str, ...]  # result domains, best first
    baseline: tuple[str, ...]  # company domains among the engine's first 25 results, in its order
    truth: frozenset[str]
    searches: int
    pages: int
    seconds: float
    stop_reason: str | None
    wrong: str  # what the results outside the truth are

    @property
    def precision(self) -> float:
        return _precision(self.found, self.truth)

    @property
    def recall(self) -> float:
        return _recall(self.found, self.truth)

    @property
    def baseline_precision(self) -> float:
        return _precision(self.baseline, self.truth)

    @property
    def baseline_recall(self) -> float:
        return _recall(self.baseline, self.truth)


def _precision(found: Sequence[str], truth: frozenset[str]) -> float:
    return sum(d in truth for d in found) / len(found) if found else 0.0


def _recall(found: Sequence[str], truth: frozenset[str], at: int = WANTED) -> float:
    return sum(d in truth for d in found[:at]) / min(at, len(truth))


def wrong_kinds(web: DiscoveryWeb, query: str, found: Sequence[str]) -> str:
    """What the results outside the truth are: "2 service, 1 other country"; "none" when all are right."""
    topic = next(t for t in TOPICS if t.query == query)
    kinds: Counter[str] = Counter()
    for domain in found:
        firm = web.firms.get(domain)
        if domain in web.truth[query]:
            continue
        if firm is None:
            kinds["not a company"] += 1
        elif firm.kind != "maker":
            kinds[firm.kind] += 1
        else:
            kinds["other country" if TOPICS[firm.topic].industry == topic.industry else "other industry"] += 1
    return ", ".join(f"{n} {kind}" for kind, n in kinds.most_common()) or "none"


def baseline(web: DiscoveryWeb, query: str, top: int = WANTED) -> tuple[str, ...]:
    """The company domains among the engine's first `top` results, once each, in its order."""
    seen: dict[str, None] = {}
    for doc in web.search(query)[:top]:
        domain = registered_domain(doc.url)
        if domain in web.firms:
            seen.setdefault(domain, None)
    return tuple(seen)


# --- the web and its search engine, in their own process --------------------------------------------------

def serve(seed: int) -> None:
    """Child side: print the two ports, then answer each line on stdin with the requests each server saw."""
    web = discovery_web(seed)
    engine = SearchApiServer(provider="searxng", rank=web.search).start()
    try:
        with loopback_web(web.sites, standard=False) as proxy:
            print(json.dumps({"proxy": proxy.port, "search": engine.base_url}), flush=True)
            for _ in sys.stdin:
                print(json.dumps({"pages": len(proxy.requests), "searches": len(engine.requests)}), flush=True)
    finally:
        engine.stop()


class Servers:
    def __init__(self, seed: int) -> None:
        self._proc = subprocess.Popen([sys.executable, "-m", "bench.web_discovery", "--serve", "--seed", str(seed)],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        try:
            ports = json.loads(line)
        except ValueError:
            self._proc.kill()
            raise RuntimeError(f"the servers did not start: {line!r}") from None
        self.proxy_url, self.search_url = f"http://127.0.0.1:{ports['proxy']}", ports["search"]

    def cpu_s(self) -> float:
        return process_cpu_s(self._proc.pid)

    def close(self) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        try:
            self._proc.wait(10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


# --- running the tasks ------------------------------------------------------------------------------------

Run = tuple[tuple[str, ...], int, int, float, str | None]


async def run_query(servers: Servers, query: str, data_dir: Path) -> Run:
    """(result domains best first, searches, pages fetched, seconds, stop reason) of one task."""
    settings = Settings(
        data_dir=data_dir, database_url=f"sqlite+aiosqlite:///{data_dir / 'firmscout.db'}",
        seed_builtin_companies=False, worker={"poll_interval_s": 0.05},  # type: ignore[arg-type]
        web={"proxy_url": servers.proxy_url, "enrich": "on", "search_provider": "searxng",  # type: ignore[arg-type]
             "search_url": servers.search_url},
    )
    async with open_runtime(settings, resolver=seam) as runtime:
        caller = await accounts.local_caller(runtime.sessions)
        stop = asyncio.Event()
        worker = asyncio.create_task(run_worker(runtime, stop))
        try:
            began = time.perf_counter()
            task = await runtime.service.create(caller, NewTask(
                query=query, desired_num_results=WANTED, auto_data_sources=False, data_sources=["web_search"]))
            while (await runtime.service.get(caller, task.id)).status not in ("done", "failed"):
                await asyncio.sleep(0.05)
            seconds = time.perf_counter() - began
            page = await runtime.service.results(caller, task.id, offset=0, limit=250)
        finally:
            stop.set()
            await asyncio.wait_for(worker, 60)
    if page.task.status == "failed":
        raise RuntimeError(f"{query!r} failed: {page.task.error}")
    return (tuple(r.domain for r in page.results), page.task.search_requests, page.task.pages_fetched, seconds,
            page.task.stop_reason)


async def measure(servers: Servers, web: DiscoveryWeb, queries: Sequence[str]) -> list[Outcome]:
    outcomes = []
    for i, query in enumerate(queries):
        with tempfile.TemporaryDirectory(prefix="firmscout-discovery-") as tmp:
            found, searches, pages, seconds, reason = await run_query(servers, query, Path(tmp))
        outcome = Outcome(query, i % 2 == 1, found, baseline(web, query), web.truth[query], searches, pages,
                          seconds, reason, wrong_kinds(web, query, found))
        outcomes.append(outcome)
        print(f"  {query!r}: {len(found)} results, precision {outcome.precision:.2f} (baseline "
              f"{outcome.baseline_precision:.2f}), recall@25 {outcome.recall:.2f} (baseline "
              f"{outcome.baseline_recall:.2f}), {searches} searches, {pages} pages, {seconds:.0f} s, {reason}; "
              f"wrong: {outcome.wrong}",
              flush=True)
    return outcomes


# --- report -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Half:
    name: str
    outcomes: tuple[Outcome, ...]

    def pooled(self, found: str) -> float:
        """Precision over every result of the half (`found` or `baseline`): a query that returned nothing
        weighs nothing, where a mean of per-query precisions would count it as 0."""
        hits = [d in o.truth for o in self.outcomes for d in getattr(o, found)]
        return sum(hits) / len(hits) if hits else 0.0

    def mean(self, figure: str) -> float:
        return sum(getattr(o, figure) for o in self.outcomes) / len(self.outcomes)

    @property
    def results(self) -> int:
        return sum(len(o.found) for o in self.outcomes)

    def per_result(self, figure: str) -> float:
        return sum(getattr(o, figure) for o in self.outcomes) / max(1, self.results)

    @property
    def per_minute(self) -> float:
        return self.results / (sum(o.seconds for o in self.outcomes) / 60)

    def row(self) -> str:
        precision, base = self.pooled("found"), self.pooled("baseline")
        return (f"| {self.name} | {len(self.outcomes)} | {precision:.2f} | {base:.2f} | "
                f"{precision / base if base else float('inf'):.2f}× | {self.mean('recall'):.2f} | "
                f"{self.mean('baseline_recall'):.2f} | {self.per_result('searches'):.2f} | "
                f"{self.per_result('pages'):.1f} | {self.per_minute:.0f} |")


def verdict(held: Half) -> str:
    precision, base = held.pooled("found"), held.pooled("baseline")
    checks = [
        (f"precision {precision:.2f} ≥ {PRECISION_TARGET}", precision >= PRECISION_TARGET),
        (f"recall@25 {held.mean('recall'):.2f} ≥ {RECALL_TARGET}", held.mean("recall") >= RECALL_TARGET),
        (f"precision {precision / base if base else float('inf'):.2f}× the baseline ≥ {OVER_BASELINE_TARGET}×",
         base == 0 or precision >= OVER_BASELINE_TARGET * base),
        (f"{held.per_minute:.0f} results/min ≥ {PER_MINUTE_TARGET:.0f}", held.per_minute >= PER_MINUTE_TARGET),
    ]
    return "Held-out targets: " + "; ".join(f"{text} {'met' if ok else 'NOT met'}" for text, ok in checks) + "."


def section(outcomes: Sequence[Outcome], *, seed: int, cpu_s: float, engine_cpu_s: float) -> str:
    tuning = Half("tuning", tuple(o for o in outcomes if not o.held_out))
    held = Half("held-out", tuple(o for o in outcomes if o.held_out))
    halves = [h for h in (tuning, held) if h.outcomes]
    per_query = [f"| {o.query} | {'held-out' if o.held_out else 'tuning'} | {len(o.found)} | {o.precision:.2f} | "
                 f"{o.baseline_precision:.2f} | {o.recall:.2f} | {o.baseline_recall:.2f} | {o.searches} | "
                 f"{o.pages} | {o.seconds:.0f} | {o.wrong} |" for o in outcomes]
    lines = [
        machine_line(), "",
        f"Seed {seed}; {len(outcomes)} queries; {WANTED} results wanted per task; default politeness.", "",
        "| half | queries | precision | baseline precision | ratio | recall@25 | baseline recall@25 | "
        "searches/result | pages/result | results/min |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *(h.row() for h in halves), "",
        "| query | half | results | precision | baseline | recall@25 | baseline | searches | pages | seconds | "
        "wrong results |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        *per_query, "",
        f"CPU: this process {cpu_s:.0f} s, the web and engine process {engine_cpu_s:.0f} s.", "",
    ]
    if held.outcomes:
        lines.append(verdict(held))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--queries", type=int, default=len(TOPICS), help="the first N queries (both halves)")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.seed)
        return
    print(machine_line(), flush=True)
    web = discovery_web(args.seed)
    queries = [t.query for t in TOPICS[: args.queries]]
    servers = Servers(args.seed)
    began_cpu = time.process_time()
    try:
        outcomes = asyncio.run(measure(servers, web, queries))
        engine_cpu = servers.cpu_s()
    finally:
        servers.close()
    text = section(outcomes, seed=args.seed, cpu_s=time.process_time() - began_cpu, engine_cpu_s=engine_cpu)
    print(text)
    if not args.no_write:
        write_section("web_discovery", text)


if __name__ == "__main__":
    main()
