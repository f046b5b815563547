"""Import throughput of the shared data files, against reading and cleaning the same file without writing."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.stats import Summary
from firmscout.catalog.readers import read_records
from firmscout.catalog.service import import_file

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


@dataclass(frozen=True)
class DataFile:
    label: str
    path: Path
    mapping: dict[str, list[str]]


# The mappings of the README's `firmscout companies import` examples.
YC = DataFile(
    "YC directory",
    SHARED / "yc_companies_2024-05-11.csv",
    {
        "name": ["company_name"], "website": ["website"], "description": ["short_description"],
        "full_description": ["long_description"], "tags": ["tags"], "country": ["country"],
        "location": ["location"], "founded_year": ["year_founded"], "employees": ["team_size"],
        "status": ["status"], "linkedin_url": ["linkedin_url"],
    },
)
FINANCE = DataFile(
    "FinanceDatabase",
    SHARED / "financedatabase_equities.csv.gz",
    {
        "name": ["name"], "website": ["website"], "description": ["summary"],
        "industry": ["industry", "industry_group", "sector"], "country": ["country"], "state": ["state"],
        "city": ["city"],
    },
)


@dataclass(frozen=True)
class ImportFigures:
    file: DataFile
    rows: int
    companies: int
    skipped: int
    import_s: float
    parse: Summary  # seconds to read and clean the file, no database: the floor of an import

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.import_s if self.import_s > 0 else 0.0


def parse_seconds(file: DataFile, repeats: int) -> Summary:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _record in read_records(file.path, file.mapping):
            pass
        samples.append(time.perf_counter() - start)
    return Summary.of(samples)


async def measure_import(
    sessions: async_sessionmaker[AsyncSession], file: DataFile, parse_repeats: int
) -> ImportFigures:
    """One import into the given database (a second one would be a different workload: a no-op merge)."""
    report = await import_file(sessions, file.path, file.mapping)
    return ImportFigures(file, report.rows_read, report.companies, report.skipped, report.seconds,
                         parse_seconds(file, parse_repeats))
