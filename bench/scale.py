"""How import and task latency grow with the company database: 10k → 100k → 1M synthetic companies.

    python -m bench.scale [--sizes 10000,100000,1000000] [--db sqlite|postgresql] [--csv-dir DIR] [--no-write]

The companies are a deterministic synthetic expansion (seed 7) of the real records in ../shared/data:
each row recombines one real company's industries, tags and description with another's country and
city, perturbs the name, derives a unique domain, and jitters founding year and head count. They are
written to a gzipped CSV, imported through `firmscout companies import`'s code, then a few tasks run.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import gzip
import json
import random
import re
import resource
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

from bench.common import PG_ADMIN, pg_database, write_section
from bench.stats import machine_line, process_cpu_s
from firmscout.catalog.readers import read_records
from firmscout.catalog.service import import_file
from firmscout.config import Settings
from firmscout.entities import CompanyProfile
from firmscout.pipeline.runner import run_task
from firmscout.tasks import accounts
from firmscout.tasks.runtime import open_runtime
from firmscout.tasks.service import NewTask
from firmscout.worker import pipeline_deps

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
QUERIES = ["fintech companies in Nigeria", "Swedish biotech companies", "developer tools startups in Germany",
           "banks in Spain", "AI agents for customer support founded since 2022"]
COLUMNS = ["name", "website", "description", "country", "city", "industry", "tags", "founded_year", "employees"]
SUFFIXES = ["Labs", "Group", "Holdings", "Systems", "Technologies", "Partners", "Works", "Global", "AI", "Co"]
TLDS = ["com", "io", "co", "de", "es", "co.uk", "ai", "fr", "se", "com.br"]


def _seed_records() -> list[CompanyProfile]:
    yc = {"name": ["company_name"], "website": ["website"], "description": ["short_description"],
          "tags": ["tags"], "country": ["country"], "location": ["location"], "founded_year": ["year_founded"],
          "employees": ["team_size"]}
    fd = {"name": ["name"], "website": ["website"], "description": ["summary"],
          "industry": ["industry", "industry_group", "sector"], "country": ["country"], "city": ["city"]}
    records = [r for r, _ in read_records(SHARED / "yc_companies_2024-05-11.csv", yc) if r]
    records += [r for r, _ in read_records(SHARED / "financedatabase_equities.csv.gz", fd) if r]
    return records


def synthetic_rows(seed_records: list[CompanyProfile], n: int) -> Iterator[list[str]]:
    rng = random.Random(7)
    for i in range(n):
        base, place = rng.choice(seed_records), rng.choice(seed_records)
        name = f"{base.name} {rng.choice(SUFFIXES)}"
        slug = re.sub(r"[^a-z0-9]+", "", base.name.lower())[:20] or "co"
        year = base.founded_year + rng.randint(-3, 3) if base.founded_year else ""
        staff = max(1, int(base.employees * rng.uniform(0.5, 1.5))) if base.employees else ""
        yield [name, f"https://{slug}{i}.{rng.choice(TLDS)}", base.description or "", place.country or "",
               place.city or "", json.dumps(list(base.industries)), json.dumps(list(base.tags)), str(year), str(staff)]


def write_csv(path: Path, rows: Iterator[list[str]]) -> None:
    with gzip.open(path, "wt", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        writer.writerows(rows)


@dataclass(frozen=True)
class Figures:
    size: int
    import_s: float
    client_cpu_s: float  # this process (every thread: the driver, SQLite itself) and its reader process
    server_cpu_s: float | None  # the PostgreSQL backends serving the import; None on SQLite (in-process)
    latencies: list[float]

    @property
    def rows_per_s(self) -> float:
        return self.size / self.import_s

    @property
    def rows_per_cpu_s(self) -> float:
        return self.size / (self.client_cpu_s + (self.server_cpu_s or 0.0))

    def row(self) -> str:
        ordered = sorted(self.latencies)
        server = f"{self.server_cpu_s:.0f} s" if self.server_cpu_s is not None else "in process"
        return (f"| {self.size:,} | {self.rows_per_s:,.0f} | {self.rows_per_cpu_s:,.0f} | {self.import_s:.0f} s | "
                f"{self.client_cpu_s:.0f} s | {server} | {statistics.median(ordered) * 1000:,.0f} ms | "
                f"{ordered[-1] * 1000:,.0f} ms | {60 / statistics.mean(ordered):,.0f} |")



def _own_cpu_s() -> float:
    """This process's CPU seconds plus its ended children's (the import's reader process)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _backend_cpu(url: str) -> dict[int, float]:
    """CPU seconds so far of every PostgreSQL backend connected to the database of `url` (a local server)."""
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (url.rsplit("/", 1)[1],))
        return {int(pid): process_cpu_s(int(pid)) for (pid,) in rows.fetchall()}


async def measure(url: str, data_dir: Path, csv_path: Path, size: int) -> Figures:
    postgres = not url.startswith("sqlite")
    async with open_runtime(Settings(data_dir=data_dir, database_url=url, seed_builtin_companies=False)) as runtime:
        before = _backend_cpu(url) if postgres else {}
        cpu = _own_cpu_s()
        report = await import_file(runtime.sessions, csv_path, {c: [c] for c in COLUMNS}, batch_size=5000)
        client_cpu = _own_cpu_s() - cpu
        # Backends started during the import count from zero; the pool keeps them open while the runtime is.
        server_cpu = (sum(s - before.get(pid, 0.0) for pid, s in _backend_cpu(url).items()) if postgres else None)
        assert report.rows_read == size, report
        caller = await accounts.local_caller(runtime.sessions)
        latencies = []
        for query in QUERIES:
            task = await runtime.service.create(caller, NewTask(query=query, desired_num_results=100))
            started = time.perf_counter()
            await run_task(pipeline_deps(runtime), task.id)
            latencies.append(time.perf_counter() - started)
    return Figures(size, report.seconds, client_cpu, server_cpu, latencies)


def synthetic_csv(seeds: list[CompanyProfile], size: int, directory: Path) -> Path:
    """The synthetic file of `size` rows in `directory`, written once: the rows depend only on the size."""
    path = directory / f"synthetic-{size}.csv.gz"
    if not path.exists():
        partial = path.with_suffix(".partial")
        write_csv(partial, synthetic_rows(seeds, size))
        partial.rename(path)
    return path


async def run_size(backend: str, size: int, csv_path: Path) -> Figures:
    with tempfile.TemporaryDirectory() as tmp:
        if backend == "postgresql":
            with pg_database("firmscout_scale") as url:
                return await measure(url, Path(tmp), csv_path, size)
        return await measure(f"sqlite:///{tmp}/scale.db", Path(tmp), csv_path, size)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--db", "--backend", dest="backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--csv-dir", type=Path, help="keep the synthetic files here and reuse them (1M: ~110 MB)")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    seeds = _seed_records()
    print(machine_line(), flush=True)
    figures = []
    with tempfile.TemporaryDirectory() as tmp:
        directory = args.csv_dir or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        for size in (int(s) for s in args.sizes.split(",")):
            figures.append(await run_size(args.backend, size, synthetic_csv(seeds, size, directory)))
            print(figures[-1].row(), flush=True)
    # The method (synthetic companies, batches of 5,000, tasks back to back) is written by hand beside the block.
    database = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[args.backend]
    section = "\n".join([
        f"{database}, {len(QUERIES)} tasks per size:", "",
        "| companies | import rows/s | rows per CPU-s | import time | client CPU | PostgreSQL CPU "
        "| task latency (median) | task latency (max) | tasks/min |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|", *(f.row() for f in figures)])
    print(section)
    if not args.no_write:
        write_section(f"scale-{args.backend}", section)


if __name__ == "__main__":
    asyncio.run(main())
