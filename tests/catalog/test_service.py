"""Catalog service on a real database: built-in seed, file import with batching, merging and progress."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from firmscout.catalog.service import ImportProgress, count, import_file, parse_mapping, seed_builtin
from firmscout.storage.repositories.companies import get_company_by_domain, search_companies

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
        assert report.rows_per_second > 0
        assert [p.rows_read for p in seen] == [4, 8, 12]
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
        assert report.upserted == 1
        async with sessions() as session:
            bbva = await get_company_by_domain(session, "bbva.com")
        assert bbva is not None
        assert bbva.tags == ["retail-banking"] and bbva.country == "Spain" and bbva.founded_year == 1857


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
