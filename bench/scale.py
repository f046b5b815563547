"""How import and task latency grow with the company database: 10k → 100k → 1M synthetic companies.

    python -m bench.scale [--sizes 10000,100000,1000000] [--backend sqlite|postgresql] [--no-write]

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
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from bench.common import pg_database, write_section
from firmscout.catalog.readers import read_records
from firmscout.catalog.service import import_file
from firmscout.config import Settings
from firmscout.pipeline.runner import run_task
from firmscout.storage.records import CompanyRecord
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


def _seed_records() -> list[CompanyRecord]:
    yc = {"name": ["company_name"], "website": ["website"], "description": ["short_description"],
          "tags": ["tags"], "country": ["country"], "location": ["location"], "founded_year": ["year_founded"],
          "employees": ["team_size"]}
    fd = {"name": ["name"], "website": ["website"], "description": ["summary"],
          "industry": ["industry", "industry_group", "sector"], "country": ["country"], "city": ["city"]}
    records = [r for r, _ in read_records(SHARED / "yc_companies_2024-05-11.csv", yc) if r]
    records += [r for r, _ in read_records(SHARED / "financedatabase_equities.csv.gz", fd) if r]
    return records


def synthetic_rows(seed_records: list[CompanyRecord], n: int) -> Iterator[list[str]]:
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


async def measure(url: str, data_dir: Path, csv_path: Path) -> tuple[float, float, list[float]]:
    runtime = await open_runtime(Settings(data_dir=data_dir, database_url=url, seed_builtin_companies=False))
    try:
        report = await import_file(runtime.sessions, csv_path, {c: [c] for c in COLUMNS}, batch_size=5000)
        caller = await accounts.local_caller(runtime.sessions)
        latencies = []
        for query in QUERIES:
            task = await runtime.service.create(caller, NewTask(query=query, desired_num_results=100))
            started = time.perf_counter()
            await run_task(pipeline_deps(runtime), task.id)
            latencies.append(time.perf_counter() - started)
    finally:
        await runtime.close()
    return report.rows_per_second, report.seconds, latencies


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    seeds = _seed_records()
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            csv_path = Path(tmp) / "synthetic.csv.gz"
            write_csv(csv_path, synthetic_rows(seeds, size))
            if args.backend == "postgresql":
                with pg_database("firmscout_scale") as url:
                    rate, seconds, latencies = await measure(url, Path(tmp), csv_path)
            else:
                rate, seconds, latencies = await measure(f"sqlite:///{tmp}/scale.db", Path(tmp), csv_path)
        ordered = sorted(latencies)
        rows.append(f"| {size:,} | {rate:,.0f} | {seconds:.0f} s | {ordered[len(ordered) // 2] * 1000:.0f} ms | "
                    f"{ordered[-1] * 1000:.0f} ms |")
        print(rows[-1], flush=True)
    section = "\n".join([
        f"## Scale ({args.backend})", "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Rerun: `python -m bench.scale --backend {args.backend}`. "
        f"Synthetic companies (see `bench/scale.py`); task latency over {len(QUERIES)} queries, 100 results asked.",
        "", "| companies | import rows/s | import time | task latency (median) | task latency (max) |",
        "|---:|---:|---:|---:|---:|", *rows, ""])
    print(section)
    if not args.no_write:
        write_section(f"scale-{args.backend}", section)

if __name__ == "__main__":
    asyncio.run(main())
