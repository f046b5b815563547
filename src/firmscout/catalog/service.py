"""The company database service: seed the built-in companies, import files, count."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from firmscout.catalog.builtin import load_builtin
from firmscout.catalog.chunks import ChunkReader, Mode, choose_mode
from firmscout.catalog.readers import CANONICAL_FIELDS, parse_mapping
from firmscout.storage.db import unit_of_work
from firmscout.storage.records import CompanyRecord, merge_records
from firmscout.storage.repositories import companies as company_repository

__all__ = [
    "CANONICAL_FIELDS",
    "ImportProgress",
    "ImportReport",
    "count",
    "import_file",
    "parse_mapping",
    "seed_builtin",
]

DEFAULT_BATCH_SIZE = 5000


@dataclass(frozen=True)
class ImportProgress:
    rows_read: int
    upserted: int
    skipped: int
    seconds: float


@dataclass
class ImportReport:
    path: Path
    rows_read: int = 0
    # Row writes; a company listed in several batches counts once per batch.
    upserted: int = 0
    companies: int = 0  # distinct domains in the file
    skipped_by_reason: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def skipped(self) -> int:
        return sum(self.skipped_by_reason.values())

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.seconds if self.seconds > 0 else 0.0


async def count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return await company_repository.count_companies(session)


async def seed_builtin(sessions: async_sessionmaker[AsyncSession]) -> int:
    """Load the built-in companies into an empty company database; returns how many were added.

    A database that already holds companies is left alone, so a restart never overwrites imports.
    """
    async with sessions() as session:
        if await company_repository.count_companies(session):
            return 0
    # Parsing the package's data is CPU work: keep the event loop (and the API) responsive meanwhile.
    load = await asyncio.to_thread(load_builtin)
    async with unit_of_work(sessions) as session:
        return await company_repository.upsert_companies(session, load.records)


async def import_file(
    sessions: async_sessionmaker[AsyncSession],
    path: Path,
    mapping: dict[str, list[str]] | None,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[ImportProgress], None] | None = None,
    reader: Mode | None = None,
) -> ImportReport:
    """Upsert every usable row of a CSV / JSON Lines file (optionally .gz), one transaction per batch.

    Rows of one company (same registered domain) are merged, and so is a company already in the
    database: a later row fills and updates fields but never blanks one that is known. An empty
    `mapping` means "columns named like the canonical fields". A failed batch leaves the database as
    the previous batch's commit left it. `reader` picks where rows are read and cleaned (see
    `catalog/chunks.py`); by default large files go to a child process.
    """
    report = ImportReport(path=path)
    started = time.perf_counter()
    seen: set[str] = set()
    with ChunkReader(path, mapping or None, batch_size, reader or choose_mode(path)) as chunks:
        # The read runs in a worker thread (a thread-mode read cleans rows there, so an import inside the
        # API does not stall request handling), one batch ahead: the next batch is read, collapsed and
        # turned into rows while this one is written (SQLite and psycopg release the GIL meanwhile).
        # Reads never overlap: the next starts once the previous one has been awaited.
        ahead = asyncio.ensure_future(asyncio.to_thread(_next_batch, chunks))
        try:
            while batch := await ahead:
                ahead = asyncio.ensure_future(asyncio.to_thread(_next_batch, chunks))
                report.rows_read += batch.rows_read
                report.skipped_by_reason.update(batch.skipped_by_reason)
                seen.update(batch.records)
                if batch.records:
                    report.upserted += await _write_batch(sessions, batch)
                report.seconds = time.perf_counter() - started
                if progress is not None:
                    progress(ImportProgress(report.rows_read, report.upserted, report.skipped, report.seconds))
        finally:
            # After a failed write, let the read in flight end before the reader is closed.
            await asyncio.gather(ahead, return_exceptions=True)
    report.companies = len(seen)
    report.seconds = time.perf_counter() - started
    return report


@dataclass
class _Batch:
    """One chunk of the file, ready to write: its usable records merged by domain, and their rows."""

    rows_read: int
    skipped_by_reason: Counter[str]
    records: dict[str, CompanyRecord]
    rows: list[company_repository.BulkRow]


def _next_batch(chunks: ChunkReader) -> _Batch | None:
    """The next chunk collapsed by domain, with its bulk rows built; None at the end of the file."""
    chunk = chunks.next_chunk()
    if not chunk:
        return None
    skipped: Counter[str] = Counter()
    records: dict[str, CompanyRecord] = {}
    for record, reason in chunk:
        if record is None:
            skipped[reason or "unusable"] += 1
            continue
        # ON CONFLICT cannot update one row twice in a statement: collapse the batch by domain.
        earlier = records.get(record.domain)
        records[record.domain] = merge_records(earlier, record) if earlier else record
    return _Batch(len(chunk), skipped, records, company_repository.bulk_rows(records.values()))


async def _write_batch(sessions: async_sessionmaker[AsyncSession], batch: _Batch) -> int:
    async with unit_of_work(sessions) as session:
        existing = await company_repository.get_companies_by_domains(session, batch.records)
        records, rows = list(batch.records.values()), batch.rows
        if existing:
            # A company already stored is merged into, so its row is built again from the merged record.
            records = [
                merge_records(company_repository.to_record(existing[record.domain]), record)
                if record.domain in existing
                else record
                for record in records
            ]
            rows = [
                company_repository.bulk_rows([record])[0] if record.domain in existing else row
                for record, row in zip(records, rows, strict=True)
            ]
        return await company_repository.bulk_upsert_companies(session, records, prepared=rows)
