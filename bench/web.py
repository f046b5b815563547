"""Reading websites at scale: profiles per minute with and without politeness, what a profile costs in pages,
bytes and memory, and a rerun that the page cache must answer alone.

    python -m bench.web [--sites 5000] [--profiles 600 2000] [--concurrency 64] [--seed 0] [--no-write]

A generated web of `--sites` company sites (`tests.servers.web.generated_web`, each with its ground truth)
is served by the loopback forward proxy in a child process, so the proxy's CPU and memory are not the
reader's. This process reads websites as the pipeline does: `read_website(reader, domain, max_pages=4)`
through one `Fetcher` (a resolver seam that never resolves, so every name goes to the proxy) and a
`PageReader` over a migrated SQLite file. `--concurrency` websites are read at once, in three modes:

1. polite: default `WebSettings` (1 s between two fetches from a host, 1 at a time per host, 16 in all),
   over the first `--profiles` sites;
2. politeness off (no delay, 8 per host, 128 in all), over as many further sites (the second value);
3. rerun: default settings and a fresh fetcher over every site read so far; the page cache must answer it
   all, so the proxy must see no request.

Per mode: profiles/min over the wall clock, latency of one website, pages read, fetched and requested per
profile (the requests include robots.txt and the refused https attempt), bytes per profile, the peak of
reads in flight, this process's peak resident memory (`ru_maxrss`, whose high-water mark is reset through
/proc/self/clear_refs before each mode), CPU per profile of this process and of the proxy, and how often the
name, country and founding year read match the truth. Each read is kept only as its counts and matches, so
the memory is the reader's, not the bench's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.common import write_section
from bench.stats import host, machine_line, nearest_rank, peak_rss_mib, process_cpu_s
from firmscout.config import WebSettings
from firmscout.geography import country_code
from firmscout.storage.db import create_engine, session_factory
from firmscout.storage.migrate import upgrade
from firmscout.web.extract import Fact
from firmscout.web.fetch import Fetcher
from firmscout.web.guard import IPAddress
from firmscout.web.pages import PageOutcome, PageReader
from firmscout.web.site import WebsiteProfile, read_website
from tests.servers.web import GeneratedCompany, generated_web, loopback_web

MAX_PAGES = 4
POLITE = WebSettings()
IMPOLITE = WebSettings(per_host_delay_s=0.0, per_host_concurrency=8, global_concurrency=128)
# The targets.
POLITE_TARGET, IMPOLITE_TARGET, MEMORY_TARGET_MIB = 60.0, 600.0, 500.0


async def seam(host: str, port: int) -> list[IPAddress]:
    """No name resolves here, so the fetcher leaves every one to the proxy (and never asks DNS)."""
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


# --- scoring (pure) ---------------------------------------------------------------------------------------

def _same_text(a: object, b: str) -> bool:
    return isinstance(a, str) and " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def _same_country(a: object, b: str) -> bool:
    if not isinstance(a, str):
        return False
    code_a, code_b = country_code(a), country_code(b)
    return code_a == code_b if code_a and code_b else _same_text(a, b)


@dataclass(frozen=True)
class Match:
    name: bool
    country: bool
    founded: bool
    employees: bool


def _value(fact: Fact | None) -> object:
    return None if fact is None else fact.value


def match(profile: WebsiteProfile, truth: GeneratedCompany) -> Match:
    """Which facts of `profile` are the generated company's own (a missing fact is a miss)."""
    return Match(
        name=_same_text(_value(profile.name), truth.name),
        country=_same_country(_value(profile.country), truth.country),
        founded=_value(profile.founded_year) == truth.founded,
        employees=_value(profile.employees) == truth.employees,
    )


@dataclass(frozen=True)
class Read:
    """What one website read is remembered by: not its profile, whose text would pile up in memory."""

    pages: int
    fetched: int
    bytes: int
    match: Match
    errors: tuple[str, ...]
    seconds: float

    @classmethod
    def of(cls, profile: WebsiteProfile, truth: GeneratedCompany, seconds: float) -> Read:
        errors = tuple(page.error for page in profile.pages if page.error)
        return cls(len(profile.pages), profile.fetched, profile.bytes, match(profile, truth), errors, seconds)


@dataclass
class Mode:
    name: str
    settings: str
    reads: list[Read]
    wall_s: float
    requests: int  # requests the proxy received during the mode
    peak_in_flight: int
    peak_rss_mib: float  # this process, during the mode (or since it started, if the peak could not be reset)
    cpu_s: float
    proxy_cpu_s: float

    @property
    def profiles(self) -> int:
        return len(self.reads)

    @property
    def per_minute(self) -> float:
        return self.profiles / self.wall_s * 60 if self.wall_s > 0 else math.nan

    @property
    def errors(self) -> Counter[str]:
        return Counter(error for r in self.reads for error in r.errors)

    def mean(self, what: str) -> float:
        """The mean of a count per read: pages, fetched or bytes."""
        return statistics.fmean(getattr(r, what) for r in self.reads) if self.reads else math.nan

    def rate(self, fact: str) -> float:
        return statistics.fmean(getattr(r.match, fact) for r in self.reads) if self.reads else math.nan

    def latency(self, q: float) -> float:
        ordered = sorted(r.seconds for r in self.reads)
        return nearest_rank(ordered, q) if ordered else math.nan


def _pct(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x * 100:.1f} %"


def _errors(mode: Mode) -> str:
    return ", ".join(f"{reason} {n}" for reason, n in mode.errors.most_common()) or "0"


def row(mode: Mode) -> str:
    n = max(1, mode.profiles)
    cpu = f"{mode.cpu_s / n * 1000:.1f} + {mode.proxy_cpu_s / n * 1000:.1f}"
    facts = " | ".join(_pct(mode.rate(fact)) for fact in ("name", "country", "founded"))
    return (f"| {mode.name} | {mode.settings} | {mode.profiles:,} | {mode.wall_s:.1f} | **{mode.per_minute:,.0f}** | "
            f"{mode.latency(0.5):.2f} | {mode.latency(0.9):.2f} | {mode.mean('pages'):.2f} | "
            f"{mode.mean('fetched'):.2f} | {mode.requests / n:.2f} | {mode.mean('bytes') / 1000:.1f} | "
            f"{mode.peak_in_flight} | {mode.peak_rss_mib:.0f} | {cpu} | {facts} | {_errors(mode)} |")


def verdicts(polite: Mode, impolite: Mode, rerun: Mode, peak_mib: float) -> str:
    """The issue's targets, each met or not, with the figure that decides it."""
    checks = [
        (polite.per_minute >= POLITE_TARGET, f"≥ {POLITE_TARGET:.0f} profiles/min polite ({polite.per_minute:,.0f})"),
        (impolite.per_minute >= IMPOLITE_TARGET,
         f"≥ {IMPOLITE_TARGET:.0f}/min with politeness off ({impolite.per_minute:,.0f})"),
        (peak_mib < MEMORY_TARGET_MIB, f"peak memory < {MEMORY_TARGET_MIB:.0f} MB with "
         f"{max(polite.peak_in_flight, impolite.peak_in_flight)} reads in flight ({peak_mib:.0f} MiB)"),
        (rerun.requests == 0 and rerun.mean("fetched") == 0,
         f"rerun fetches nothing ({rerun.requests} requests, {sum(r.fetched for r in rerun.reads)} pages)"),
    ]
    met = [text for ok, text in checks if ok]
    missed = [text for ok, text in checks if not ok]
    return ("Issue targets: " + (f"met: {'; '.join(met)}." if met else "none met.")
            + (f" NOT met: {'; '.join(missed)}." if missed else ""))


def section(modes: Sequence[Mode], *, sites: int, seed: int, concurrency: int, start_mib: float, peak_mib: float,
            proxy_peak_mib: float, verdict: str) -> str:
    """The `web` block of docs/benchmarks.md; the method is written by hand beside it."""
    return "\n".join([
        f"Host: {host()}. A generated web of {sites:,} sites (seed {seed}) behind a loopback proxy in its own "
        f"process; {concurrency} websites read at once, `read_website(max_pages={MAX_PAGES})` each, one SQLite "
        "page cache:", "",
        "| mode | settings | profiles | wall s | profiles/min | latency median s | p90 s | pages/profile | "
        "fetched/profile | requests/profile | KB/profile | peak reads in flight | peak RSS MiB | CPU ms/profile "
        "(reader + proxy) | name | country | founded | errors |",
        "|---|---|" + "---:|" * 16,
        *(row(mode) for mode in modes), "",
        f"Memory: this process peaked at {peak_mib:.0f} MiB (`ru_maxrss`; {start_mib:.0f} MiB before the first "
        f"read); the proxy process at {proxy_peak_mib:.0f} MiB.", "",
        verdict,
    ])


# --- the proxy, in its own process ----------------------------------------------------------------------

def serve_proxy(sites: int, seed: int) -> None:
    """Child side: print the port, then answer each line on stdin with the request counts so far."""
    with loopback_web(generated_web(sites, seed), standard=False) as web:
        print(f"port {web.port}", flush=True)
        for _ in sys.stdin:
            requests = web.requests
            kinds = Counter("connect" if r.method == "CONNECT" else "robots" if r.target.endswith("/robots.txt")
                            else "page" for r in requests)
            print(json.dumps({"requests": len(requests), **kinds}), flush=True)


class Proxy:
    def __init__(self, sites: int, seed: int) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "bench.web", "--serve-proxy", "--sites", str(sites), "--seed", str(seed)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line.startswith("port "):
            self._proc.kill()
            raise RuntimeError(f"the proxy did not start: {line!r}")
        self.url = f"http://127.0.0.1:{int(line.split()[1])}"

    def requests(self) -> int:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write("count\n")
        self._proc.stdin.flush()
        return int(json.loads(self._proc.stdout.readline())["requests"])

    def cpu_s(self) -> float:
        return process_cpu_s(self._proc.pid)

    def peak_rss_mib(self) -> float:
        for line in Path(f"/proc/{self._proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return math.nan

    def close(self) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.close()  # EOF: the child stops its server and exits
        try:
            self._proc.wait(10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


# --- reading --------------------------------------------------------------------------------------------

class CountingReader(PageReader):
    """A PageReader that keeps the peak number of reads in flight (cache look-ups included)."""

    in_flight = 0
    peak = 0

    async def read(self, url: str, *, site: bool = False) -> PageOutcome:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            return await super().read(url, site=site)
        finally:
            self.in_flight -= 1


def reset_peak_rss() -> bool:
    """Start the high-water mark that `ru_maxrss` reports afresh (Linux: "5" into clear_refs); False if not."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


async def run_mode(name: str, label: str, settings: WebSettings, companies: Sequence[GeneratedCompany], *,
                   proxy: Proxy, sessions: async_sessionmaker[AsyncSession], concurrency: int) -> Mode:
    settings = settings.model_copy(update={"proxy_url": proxy.url})
    fetcher = Fetcher(settings, resolver=seam)
    reader = CountingReader(fetcher, sessions, settings)
    reads: list[Read] = []
    todo = iter(companies)

    async def worker() -> None:
        for company in todo:  # one iterator shared by the workers: each takes the next site
            began = time.perf_counter()
            profile = await read_website(reader, company.host, max_pages=MAX_PAGES)
            reads.append(Read.of(profile, company, time.perf_counter() - began))

    requests_before, cpu_before, proxy_before = proxy.requests(), process_cpu_s(os.getpid()), proxy.cpu_s()
    reset_peak_rss()
    try:
        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - began
    finally:
        await fetcher.aclose()
    # The refused https attempt before http is how every site is reached through this proxy, not an error:
    # it never shows in a profile's pages (fetch_site falls back to http inside one read).
    mode = Mode(name, label, reads, wall, proxy.requests() - requests_before, reader.peak, peak_rss_mib(),
                process_cpu_s(os.getpid()) - cpu_before, proxy.cpu_s() - proxy_before)
    print(f"  {name}: {mode.profiles:,} profiles in {wall:.1f} s = {mode.per_minute:,.0f}/min; "
          f"{mode.mean('fetched'):.2f} pages fetched and {mode.requests / max(1, mode.profiles):.2f} requests per "
          f"profile, {mode.mean('bytes') / 1000:.1f} KB; peak {mode.peak_in_flight} reads in flight, RSS "
          f"{mode.peak_rss_mib:.0f} MiB; name {_pct(mode.rate('name'))}, country {_pct(mode.rate('country'))}, "
          f"founded {_pct(mode.rate('founded'))}, employees {_pct(mode.rate('employees'))}; errors {_errors(mode)}",
          flush=True)
    return mode


async def measure(args: argparse.Namespace, proxy: Proxy, db: Path) -> tuple[list[Mode], float]:
    url = f"sqlite:///{db}"
    upgrade(url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    web = generated_web(args.sites, args.seed)
    n_polite, n_fast = args.profiles
    polite_sites = [web.company(i) for i in range(n_polite)]
    fast_sites = [web.company(i) for i in range(n_polite, n_polite + n_fast)]
    start_mib = peak_rss_mib()
    common = {"proxy": proxy, "sessions": sessions, "concurrency": args.concurrency}
    try:
        polite = await run_mode("polite", "1 s per host, 1 per host, 16 in all", POLITE, polite_sites, **common)
        fast = await run_mode("politeness off", "no delay, 8 per host, 128 in all", IMPOLITE, fast_sites, **common)
        rerun = await run_mode("rerun (cache)", "defaults, fresh fetcher", POLITE, polite_sites + fast_sites,
                               **common)
    finally:
        await engine.dispose()
    return [polite, fast, rerun], start_mib


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sites", type=int, default=5000, help="size of the generated web")
    parser.add_argument("--profiles", type=int, nargs="+", default=[600, 2000], metavar="N",
                        help="websites read polite, then with politeness off (one value: both)")
    parser.add_argument("--concurrency", type=int, default=64, help="websites read at once")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--serve-proxy", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_proxy:
        serve_proxy(args.sites, args.seed)
        return
    if len(args.profiles) == 1:
        args.profiles *= 2
    if len(args.profiles) != 2 or min(args.profiles) < 1 or sum(args.profiles) > args.sites:
        parser.error(f"--profiles takes one or two counts ≥ 1 whose sum is at most --sites ({args.sites}): "
                     "each mode reads sites the other has not")
    print(machine_line(), flush=True)
    began = time.perf_counter()
    proxy = Proxy(args.sites, args.seed)
    try:
        with tempfile.TemporaryDirectory(prefix="firmscout-web-") as tmp:
            modes, start_mib = asyncio.run(measure(args, proxy, Path(tmp) / "web.db"))
        proxy_peak = proxy.peak_rss_mib()
    finally:
        proxy.close()
    print(f"whole run {time.perf_counter() - began:.0f} s\n")
    # The whole run's peak: ru_maxrss before the first mode reset it, and each mode's own.
    peak = max(start_mib, peak_rss_mib(), *(mode.peak_rss_mib for mode in modes))
    polite, fast, rerun = modes
    text = section(modes, sites=args.sites, seed=args.seed, concurrency=args.concurrency, start_mib=start_mib,
                   peak_mib=peak, proxy_peak_mib=proxy_peak, verdict=verdicts(polite, fast, rerun, peak))
    print(text)
    if not args.no_write:
        write_section("web", text)


if __name__ == "__main__":
    main()
