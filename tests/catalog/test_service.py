"""Catalog service on a real database: built-in seed, file import with batching, merging and progress."""

from __future__ import annotations

import csv
import gzip
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from firmscout.catalog.service import ImportProgress, count, import_file, parse_mapping, seed_builtin
from firmscout.entities import CompanyProfile
from firmscout.errors import ImportFailed
from firmscout.storage.db import unit_of_work
from firmscout.storage.repositories import companies as company_repository
from firmscout.storage.repositories.companies import BulkRow, get_company_by_domain, search_companies
from firmscout.storage.tables import Company

Sessions = async_sessionmaker[AsyncSession]
SHARED_DATA = (Path(__file__).resolve().parents[2] / ".." / "shared" / "data").resolve()
YC_FILE = SHARED_DATA / "yc_companies_2024-05-11.csv"
FINANCE_FILE = SHARED_DATA / "financedatabase_equities.csv.gz"
YC_MAP = [
    "name=company_name", "description=short_description", "full_description=long_description", "tags=tags",
    "location=location", "country=country", "founded_year=year_founded", "employees=team_size",
    "status=status", "website=website", "linkedin_url=linkedin_url",
]
FINANCE_MAP = [
    "name=name", "description=summary", "industry=industry,industry_group,sector", "country=country",
    "state=state", "city=city", "website=website",
]
SPANISH_BANKS = {"bbva.com", "caixabank.com", "bankinter.com"}


class TestSeedBuiltin:
    async def test_seeds_once_with_spanish_banks(self, sessions: Sessions) -> None:
        added = await seed_builtin(sessions)
        assert 1400 <= added <= 1837
        assert await count(sessions) == added
        assert await seed_builtin(sessions) == 0  # a non-empty database is left alone
        async with sessions() as session:
            for domain in SPANISH_BANKS:
                bank = await get_company_by_domain(session, domain)
                assert bank is not None, domain
                assert bank.country == "Spain" and "Banks" in bank.industries
                assert bank.origin == "pytickersymbols"
                assert bank.description and "Spain" in bank.description
            found = await search_companies(session, terms=["bank"], countries=["Spain"], limit=50, offset=0)
        assert {c.domain for c in found} >= SPANISH_BANKS
        assert all(c.country == "Spain" for c in found)


class TestImport:
    async def test_batches_merge_and_report(self, sessions: Sessions, tmp_path: Path) -> None:
        path = tmp_path / "listings.csv"
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["name", "summary", "sector", "industry", "city", "website"])
            # One company per exchange listing: each listing carries part of the data.
            writer.writerow(["Acme AG", "Acme makes anvils.", "Industrials", "", "", "https://acme.de"])
            writer.writerow(["Acme AG", "", "", "Machinery", "Munich", "http://www.acme.de/en"])
            writer.writerow(["", "nameless", "", "", "", "x.com"])
            writer.writerow(["No Site", "", "", "", "", ""])
            for i in range(7):
                writer.writerow([f"Filler {i}", "filler text", "", "", "", f"filler{i}.com"])
            writer.writerow(["Acme AG", "", "Materials", "", "", "acme.de"])  # a later batch
        seen: list[ImportProgress] = []
        report = await import_file(
            sessions, path, parse_mapping(["name=name", "description=summary", "industry=industry,sector",
                                           "city=city", "website=website"]),
            batch_size=4, progress=seen.append,
        )
        assert report.rows_read == 12
        assert dict(report.skipped_by_reason) == {"no name": 1, "no website or domain": 1}
        assert report.skipped == 2 and report.companies == 8
        # Acme, in the first and the last batch, is one company created, not also one updated.
        assert (report.created, report.updated, report.unchanged) == (8, 0, 0)
        assert report.rows_per_second > 0
        assert [(p.rows_read, p.created, p.updated) for p in seen] == [(4, 1, 0), (8, 5, 0), (12, 8, 0)]
        assert await count(sessions) == 8
        async with sessions() as session:
            acme = await get_company_by_domain(session, "acme.de")
        assert acme is not None
        assert (acme.description, acme.city) == ("Acme makes anvils.", "Munich")
        assert set(acme.industries) == {"Industrials", "Machinery", "Materials"}
        assert acme.website == "https://acme.de"  # a later row's blank never erases, a value replaces

    async def test_import_updates_seeded_company(self, sessions: Sessions, tmp_path: Path) -> None:
        await seed_builtin(sessions)
        path = tmp_path / "extra.jsonl"
        path.write_text('{"name": "BBVA", "website": "bbva.com", "tags": ["retail-banking"]}\n')
        report = await import_file(sessions, path, None)
        assert (report.created, report.updated, report.unchanged) == (0, 1, 0)
        async with sessions() as session:
            bbva = await get_company_by_domain(session, "bbva.com")
        assert bbva is not None
        assert bbva.tags == ["retail-banking"] and bbva.country == "Spain" and bbva.founded_year == 1857


def write_rows(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "summary", "city", "website"])
        writer.writerows(rows)
    return path


ROWS_MAP = ["name=name", "description=summary", "city=city", "website=website"]


class TestImportCounts:
    """Created, updated and unchanged count distinct companies; the database grows by `created`."""

    async def test_company_in_several_batches_is_created_once(self, sessions: Sessions, tmp_path: Path) -> None:
        rows = [["Acme", "Anvils.", "", "acme.de"], ["Bolt", "", "", "bolt.io"], ["", "nameless", "", "x.com"],
                ["Acme", "", "Munich", "www.acme.de"], ["Acme", "", "", "https://acme.de/en"],
                ["Cog", "", "", "cog.se"], ["Bolt", "Bolts.", "Oslo", "bolt.io"]]
        seen: list[ImportProgress] = []
        report = await import_file(sessions, write_rows(tmp_path / "a.csv", rows), parse_mapping(ROWS_MAP),
                                   batch_size=2, progress=seen.append)
        assert (report.rows_read, report.created, report.updated, report.unchanged, report.skipped) == (7, 3, 0, 0, 1)
        assert report.companies == await count(sessions) == 3
        assert [(p.created, p.updated, p.unchanged) for p in seen] == [(2, 0, 0), (2, 0, 0), (3, 0, 0), (3, 0, 0)]

    async def test_reimport_counts_changed_and_new_companies(self, sessions: Sessions, tmp_path: Path) -> None:
        mapping = parse_mapping(ROWS_MAP)
        first = [["Acme", "Anvils.", "", "acme.de"], ["Bolt", "Bolts.", "", "bolt.io"], ["Cog", "Cogs.", "", "cog.se"]]
        await import_file(sessions, write_rows(tmp_path / "companies.csv", first), mapping)
        # A new version of the same file (a company's origin names the file it last came from).
        second = [
            ["Acme", "Anvils.", "", "acme.de"],  # as stored
            ["Bolt", "", "Oslo", "bolt.io"],  # a new city: updated
            ["Dyn", "Dynamos.", "", "dyn.fi"],  # new
            ["Bolt", "", "", "bolt.io"],  # Bolt again, adding nothing: still one company updated
            ["Cog", "", "", "cog.se"],  # blanks never erase: unchanged
            ["No Site", "", "", ""],
        ]
        path = write_rows(tmp_path / "companies.csv", second)
        report = await import_file(sessions, path, mapping, batch_size=3)
        assert (report.created, report.updated, report.unchanged, report.skipped) == (1, 1, 2, 1)
        assert await count(sessions) == 4
        again = await import_file(sessions, path, mapping, batch_size=3)
        assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
        # The same rows from another file: every company's origin changes.
        elsewhere = await import_file(sessions, path.rename(tmp_path / "other.csv"), mapping)
        assert (elsewhere.created, elsewhere.updated, elsewhere.unchanged) == (0, 4, 0)

    async def test_update_undone_by_a_later_batch_is_unchanged(self, sessions: Sessions, tmp_path: Path) -> None:
        mapping = parse_mapping(ROWS_MAP)
        path = write_rows(tmp_path / "companies.csv", [["Acme", "", "Munich", "acme.de"]])
        await import_file(sessions, path, mapping)
        rows = [["Acme", "", "Berlin", "acme.de"], ["Bolt", "", "", "bolt.io"], ["Acme", "", "Munich", "acme.de"]]
        seen: list[ImportProgress] = []
        report = await import_file(sessions, write_rows(path, rows), mapping, batch_size=2, progress=seen.append)
        assert [(p.created, p.updated, p.unchanged) for p in seen] == [(1, 1, 0), (1, 0, 1)]
        assert (report.created, report.updated, report.unchanged) == (1, 0, 1)


@pytest.mark.slow
@pytest.mark.skipif(not YC_FILE.exists() or not FINANCE_FILE.exists(), reason=f"shared data not at {SHARED_DATA}")
class TestSharedFiles:
    async def test_imports_both_files(self, sessions: Sessions, db_url: str) -> None:
        yc = await import_file(sessions, YC_FILE, parse_mapping(YC_MAP))
        assert yc.rows_read == 4663
        assert 4550 <= yc.companies <= 4663
        finance = await import_file(sessions, FINANCE_FILE, parse_mapping(FINANCE_MAP))
        assert finance.rows_read == 69152
        # 2/3 of the listings have a website; measured 28,079 distinct domains.
        assert 26_000 <= finance.companies <= 32_000
        total = await count(sessions)
        assert 30_000 <= total <= yc.companies + finance.companies
        async with sessions() as session:
            kscale = await get_company_by_domain(session, "kscale.dev")
            aalberts = await get_company_by_domain(session, "aalberts.com")
            hits = await search_companies(session, terms=["humanoid robots"], limit=20, offset=0)
        assert kscale is not None and kscale.country == "United States" and "robotics" in kscale.tags
        assert aalberts is not None and aalberts.country == "Netherlands" and "Machinery" in aalberts.industries
        assert "kscale.dev" in {c.domain for c in hits}


def listing(i: int) -> list[str]:
    """Row `i` of a listings file: some without a name or a site, some repeating an earlier company."""
    words = ["bank", "robots", "dairy", "software", "payments", "cloud", "genomics", "solar", "farming", "chips"]
    text = " ".join(words[(i * 7 + k * 3) % len(words)] for k in range(5 + i % 40))
    if i % 17 == 0:
        return ["", text, "", "", "", f"nameless{i}.com"]
    if i % 23 == 0:
        return [f"Siteless {i}", text, "", "", "", ""]
    # Every 5th row repeats an earlier company (another listing) with part of the data.
    site = f"co{i - 3 if i % 5 == 0 and i > 3 else i}.com"
    return [f"Co {i}", text, words[i % 10].title(), "Madrid" if i % 2 else "", ["Spain", "DE", "Sweden", ""][i % 4],
            f"https://www.{site}"]


def listed_domains(rows: range) -> set[str]:
    return {row[5].removeprefix("https://www.") for row in map(listing, rows) if row[0] and row[5]}


def write_listings(path: Path, n: int) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "summary", "sector", "city", "country", "website"])
        writer.writerows(map(listing, range(n)))
    return path


LISTINGS_MAP = ["name=name", "description=summary", "industry=sector", "city=city", "country=country",
                "website=website"]


async def stored(sessions: Sessions) -> tuple[dict[str, tuple[object, ...]], list[list[str]]]:
    """Every company (id and updated_at aside) and ranked search results, to compare two imports."""
    async with sessions() as session:
        rows = {}
        for domain in [f"co{i}.com" for i in range(400)]:
            c = await get_company_by_domain(session, domain)
            if c is not None:
                rows[domain] = (c.name, c.description, c.city, c.country, tuple(c.industries), c.search_text)
        found = [
            [c.domain for c in await search_companies(session, terms=terms, countries=countries, limit=500)]
            for terms in (["bank"], ["dairy farming"], ["robot", "chips"], ["Madrid"])
            for countries in ((), ("Spain",))
        ]
    return rows, found


class TestBulkImport:
    async def test_same_outcome_as_row_by_row_writes(
        self, sessions: Sessions, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        path = write_listings(tmp_path / "listings.csv", 400)
        mapping = parse_mapping(LISTINGS_MAP)
        # The bulk path with rows read in a child process, against row-by-row writes of rows read in a thread.
        bulk = await import_file(sessions, path, mapping, batch_size=64, reader="process")
        bulk_state = await stored(sessions)
        async with unit_of_work(sessions) as session:
            await session.execute(delete(Company))
        async def row_by_row(session: AsyncSession, rows: Sequence[CompanyProfile], **_: object) -> int:
            return await company_repository.upsert_companies(session, rows)

        monkeypatch.setattr(company_repository, "bulk_upsert_companies", row_by_row)
        rows = await import_file(sessions, path, mapping, batch_size=64, reader="thread")
        counts = (bulk.rows_read, bulk.created, bulk.updated, bulk.unchanged)
        assert counts == (rows.rows_read, rows.created, rows.updated, rows.unchanged)
        assert bulk.skipped_by_reason == rows.skipped_by_reason == {"no name": 24, "no website or domain": 16}
        assert await stored(sessions) == bulk_state
        assert len(bulk_state[0]) == bulk.companies and all(bulk_state[1])

    async def test_reimport_changes_nothing(self, sessions: Sessions, tmp_path: Path) -> None:
        path = write_listings(tmp_path / "listings.csv", 300)
        mapping = parse_mapping(LISTINGS_MAP)
        first = await import_file(sessions, path, mapping, batch_size=50)
        before_state = await stored(sessions)
        async with sessions() as session:
            before = {c.domain: (c.id, c.updated_at) for c in await session.scalars(select(Company))}
        again = await import_file(sessions, path, mapping, batch_size=50)
        async with sessions() as session:
            after = {c.domain: (c.id, c.updated_at) for c in await session.scalars(select(Company))}
        assert (again.rows_read, again.companies, again.skipped) == (first.rows_read, first.companies, first.skipped)
        assert await count(sessions) == first.companies == first.created == len(after)
        # Nothing new: every company is unchanged, those rewritten in one batch and restored in the next too.
        assert (again.created, again.updated, again.unchanged) == (0, 0, first.companies)
        assert await stored(sessions) == before_state
        # Only a company listed in two batches is written again (its first listing is merged into the stored
        # row, then the second one restores it); every other row is left alone, same id and updated_at.
        across_batches = {f"co{i - 3}.com" for i in range(5, 300, 5) if i // 50 != (i - 3) // 50}
        rewritten = {domain for domain in after if after[domain] != before[domain]}
        assert rewritten <= across_batches
        assert {domain: ids[0] for domain, ids in after.items()} == {domain: ids[0] for domain, ids in before.items()}

    async def test_failed_batch_keeps_earlier_batches_and_the_index_whole(
        self, sessions: Sessions, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        path = write_listings(tmp_path / "listings.csv", 300)
        real = company_repository.bulk_upsert_companies
        calls = 0

        async def fail_second_batch(
            session: AsyncSession, rows: Sequence[CompanyProfile], *, prepared: Sequence[BulkRow]
        ) -> int:
            nonlocal calls
            calls += 1
            if calls == 2:
                # Half the batch written (SQLite: with the full-text trigger dropped), then a crash.
                half = len(rows) // 2
                await real(session, rows[:half], prepared=prepared[:half])
                raise RuntimeError("disk full")
            return await real(session, rows, prepared=prepared)

        monkeypatch.setattr(company_repository, "bulk_upsert_companies", fail_second_batch)
        with pytest.raises(RuntimeError, match="disk full"):
            await import_file(sessions, path, parse_mapping(LISTINGS_MAP), batch_size=100)
        monkeypatch.undo()
        # Exactly the first batch's companies: the second left nothing behind.
        assert set((await stored(sessions))[0]) == listed_domains(range(100))
        async with sessions() as session:
            if session.get_bind().dialect.name == "sqlite":
                assert await session.scalar(text("SELECT count(*) FROM sqlite_master WHERE name = 'company_fts_ai'"))
                await session.execute(text("INSERT INTO company_fts(company_fts, rank) VALUES ('integrity-check', 1)"))
        # The import can simply be run again.
        done = await import_file(sessions, path, parse_mapping(LISTINGS_MAP), batch_size=100)
        assert await count(sessions) == done.companies

    async def test_unreadable_rest_of_file_keeps_the_batches_before(self, sessions: Sessions, tmp_path: Path) -> None:
        plain = write_listings(tmp_path / "listings.csv", 300).read_bytes()
        path = tmp_path / "listings.csv.gz"
        path.write_bytes(gzip.compress(plain)[:-20])  # cut off: the gzip stream ends early
        with pytest.raises(ImportFailed, match="Cannot read"):
            await import_file(sessions, path, parse_mapping(LISTINGS_MAP), batch_size=50)
        # Whole batches of 50 rows, from the first on, and not the last one.
        assert set((await stored(sessions))[0]) in [listed_domains(range(n)) for n in range(50, 300, 50)]

