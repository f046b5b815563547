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
from firmscout.entities import CompanyProfile, merge_companies
from firmscout.storage.db import unit_of_work
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
    created: int
    updated: int
    unchanged: int
    skipped: int
    seconds: float


@dataclass
class ImportReport:
    """What an import did, counted per distinct company (registered domain) of the file.

    Every row read either belongs to a company or is skipped (`skipped_by_reason`). Each company of the
    file is counted once, however many rows and batches it spans: `created` if the database did not hold
    it before the import (the database grew by that many), else `updated` if its stored row now differs
    from the one stored before (in any field, `origin` too: it names the file a company last came from),
    else `unchanged`.
    """

    path: Path
    rows_read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped_by_reason: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def companies(self) -> int:
        """Distinct companies in the file's usable rows."""
        return self.created + self.updated + self.unchanged

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
    """Import every usable row of a CSV / JSON Lines file (optionally .gz), one transaction per batch.

    Rows of one company (same registered domain) are merged, and so is a company already in the
    database: a later row fills and updates fields but never blanks one that is known. An empty
    `mapping` means "columns named like the canonical fields". A failed batch leaves the database as
    the previous batch's commit left it. `reader` picks where rows are read and cleaned (see
    `catalog/chunks.py`); by default large files go to a child process.
    """
    report = ImportReport(path=path)
    started = time.perf_counter()
    outcome = _Outcome()
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
                if batch.records:
                    await _write_batch(sessions, batch, outcome)
                report.created, report.updated, report.unchanged = outcome.counts()
                report.seconds = time.perf_counter() - started
                if progress is not None:
                    progress(ImportProgress(report.rows_read, report.created, report.updated, report.unchanged,
                                            report.skipped, report.seconds))
        finally:
            # After a failed write, let the read in flight end before the reader is closed.
            await asyncio.gather(ahead, return_exceptions=True)
    report.seconds = time.perf_counter() - started
    return report


@dataclass
class _Batch:
    """One chunk of the file, ready to write: its usable records merged by domain, and their rows."""

    rows_read: int
    skipped_by_reason: Counter[str]
    records: dict[str, CompanyProfile]
    rows: list[company_repository.BulkRow]


def _next_batch(chunks: ChunkReader) -> _Batch | None:
    """The next chunk collapsed by domain, with its bulk rows built; None at the end of the file."""
    chunk = chunks.next_chunk()
    if not chunk:
        return None
    skipped: Counter[str] = Counter()
    records: dict[str, CompanyProfile] = {}
    for record, reason in chunk:
        if record is None:
            skipped[reason or "unusable"] += 1
            continue
        # ON CONFLICT cannot update one row twice in a statement: collapse the batch by domain.
        earlier = records.get(record.domain)
        records[record.domain] = merge_companies(earlier, record) if earlier else record
    return _Batch(len(chunk), skipped, records, company_repository.bulk_rows(records.values()))


class _Outcome:
    """What the import has done so far to each distinct company of the file (see `ImportReport`)."""

    def __init__(self) -> None:
        self.created: set[str] = set()
        # Per company stored before the import: a hash of its record then (keeping the records would hold
        # the whole database in memory on a re-import) and, in `updated`, whether its record now differs.
        self.stored_before: dict[str, int] = {}
        self.updated: set[str] = set()

    def written(self, record: CompanyProfile, stored: CompanyProfile | None) -> None:
        """`record` was committed for its company; `stored` is what the database held just before."""
        domain = record.domain
        if domain in self.created:
            return  # an earlier batch of this import created it: it stays "created"
        if stored is None:
            self.created.add(domain)
            return
        if hash(record) == self.stored_before.setdefault(domain, hash(stored)):
            self.updated.discard(domain)  # as before the import, or put back so by a later batch
        else:
            self.updated.add(domain)

    def counts(self) -> tuple[int, int, int]:
        """(created, updated, unchanged)"""
        return len(self.created), len(self.updated), len(self.stored_before) - len(self.updated)


async def _write_batch(sessions: async_sessionmaker[AsyncSession], batch: _Batch, outcome: _Outcome) -> None:
    async with unit_of_work(sessions) as session:
        found = await company_repository.get_companies_by_domains(session, batch.records)
        stored = {domain: company_repository.profile_of(company) for domain, company in found.items()}
        records, rows = list(batch.records.values()), batch.rows
        if stored:
            # A company already stored is merged into, so its row is built again from the merged record.
            records = [
                merge_companies(stored[record.domain], record) if record.domain in stored else record
                for record in records
            ]
            rows = [
                company_repository.bulk_rows([record])[0] if record.domain in stored else row
                for record, row in zip(records, rows, strict=True)
            ]
        await company_repository.bulk_upsert_companies(session, records, prepared=rows)
    # Counted once committed: a batch that failed changed nothing.
    for record in records:
        outcome.written(record, stored.get(record.domain))
