"""The bulk upsert (file imports) against the row-by-row one, on SQLite (FTS5) and PostgreSQL (tsvector)."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, cast

import psycopg
import pytest
from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from firmscout.entities import CompanyProfile
from firmscout.storage.db import unit_of_work
from firmscout.storage.repositories.companies import (
    bulk_upsert_companies,
    count_companies,
    search_companies,
    upsert_companies,
)
from firmscout.storage.tables import Company
from tests.factories import company

Sessions = async_sessionmaker[AsyncSession]
Upsert = Callable[[AsyncSession, Sequence[CompanyProfile]], Awaitable[int]]

WORDS = ["bank", "banking", "robots", "robotics", "dairy", "biotech", "software", "payments", "lending", "cloud",
         "logistics", "insurance", "solar", "chips", "games", "retail", "fintech", "genomics", "drones", "farming"]
COUNTRIES = ["Spain", "Germany", "Nigeria", "Sweden", None]
TERMS = [["bank"], ["robot"], ["dairy farming"], ["software", "cloud"], ["genomics"], ["pay"], ["Sweden"]]


def synthetic(n: int, seed: int, *, prefix: str = "co") -> list[CompanyProfile]:
    """Deterministic companies with long, overlapping descriptions (what makes full-text indexing costly)."""
    rng = random.Random(seed)
    return [
        company(
            f"{prefix}{i}.com", f"{prefix.title()} {i} {rng.choice(WORDS).title()}",
            description=" ".join(rng.choices(WORDS, k=rng.randint(5, 60))),
            country=rng.choice(COUNTRIES), industries=tuple(rng.sample(WORDS, 2)),
            tags=tuple(rng.sample(WORDS, rng.randint(0, 3))), founded_year=rng.choice([None, 1990, 2015, 2023]),
        )
        for i in range(n)
    ]


async def write(sessions: Sessions, upsert: Upsert, rows: Sequence[CompanyProfile]) -> int:
    async with unit_of_work(sessions) as session:
        return await upsert(session, rows)


async def snapshot(sessions: Sessions) -> tuple[dict[str, dict[str, Any]], list[list[str]]]:
    """Every stored row (without id and updated_at) and the ranked search results of TERMS."""
    async with sessions() as session:
        rows = {
            c.domain: {k: v for k, v in vars(c).items() if k not in ("id", "updated_at", "_sa_instance_state")}
            for c in await session.scalars(select(Company))
        }
        results = []
        for terms in TERMS:
            for countries in ((), ("Spain", "Sweden")):
                found = await search_companies(session, terms=terms, countries=countries, limit=500)
                results.append([c.domain for c in found])
    return rows, results


async def fts_is_consistent(sessions: Sessions) -> bool:
    """SQLite: the insert trigger exists and the external-content index matches the company rows."""
    async with sessions() as session:
        if session.get_bind().dialect.name != "sqlite":
            return True
        trigger = await session.scalar(text("SELECT count(*) FROM sqlite_master WHERE name = 'company_fts_ai'"))
        # Raises "database disk image is malformed" (SQLITE_CORRUPT_VTAB) when index and content differ.
        await session.execute(text("INSERT INTO company_fts(company_fts, rank) VALUES ('integrity-check', 1)"))
        return trigger == 1


class Unbindable:
    """A value no driver can send: the row holding it fails a write half-way through a batch."""


# The errors the drivers raise for it (the bulk path talks to the DB-API connection directly).
BIND_ERRORS = (sqlite3.Error, psycopg.Error)


class TestBulkUpsert:
    async def test_same_rows_and_search_results_as_row_by_row(self, sessions: Sessions) -> None:
        existing = synthetic(60, seed=1)
        # Half the batch updates existing companies (new text, so they are re-indexed), half is new.
        batch = synthetic(60, seed=2)[:30] + synthetic(120, seed=3, prefix="new")
        outcomes = []
        for upsert in (upsert_companies, bulk_upsert_companies):
            async with unit_of_work(sessions) as session:
                await session.execute(delete(Company))
            await write(sessions, upsert_companies, existing)
            assert await write(sessions, upsert, batch + batch[:5]) == len(batch)  # duplicates collapse
            outcomes.append(await snapshot(sessions))
            assert await fts_is_consistent(sessions)
        (row_rows, row_results), (bulk_rows, bulk_results) = outcomes
        assert len(bulk_rows) == 60 + 120
        assert bulk_rows == row_rows
        assert bulk_results == row_results
        assert any(len(found) > 10 for found in bulk_results)  # the comparison is not between empty lists
        assert bulk_rows["co5.com"]["description"] == batch[5].description  # the update landed

    async def test_rows_written_in_bulk_are_searchable_and_later_updates_reindex(self, sessions: Sessions) -> None:
        await write(sessions, bulk_upsert_companies, [company("acme.de", "Acme", description="anvils and rockets")])
        await write(sessions, bulk_upsert_companies, [company("acme.de", "Acme", description="dairy farming")])
        async with sessions() as session:
            assert [c.domain for c in await search_companies(session, terms=["dairy"], limit=5)] == ["acme.de"]
            assert await search_companies(session, terms=["anvils"], limit=5) == []
        # The row-by-row path (its trigger restored) still indexes new rows.
        await write(sessions, upsert_companies, [company("beta.io", "Beta", description="anvils")])
        async with sessions() as session:
            assert [c.domain for c in await search_companies(session, terms=["anvils"], limit=5)] == ["beta.io"]
        assert await fts_is_consistent(sessions)

    async def test_rewriting_the_same_rows_changes_nothing(self, sessions: Sessions) -> None:
        rows = synthetic(80, seed=4)
        # Written row by row first: the bulk path must see its own values (JSON text included) as unchanged.
        await write(sessions, upsert_companies, rows)
        async with sessions() as session:
            before = {(c.id, c.domain, c.updated_at) for c in await session.scalars(select(Company))}
        await write(sessions, bulk_upsert_companies, rows)
        await write(sessions, bulk_upsert_companies, rows)
        async with sessions() as session:
            after = {(c.id, c.domain, c.updated_at) for c in await session.scalars(select(Company))}
            assert await count_companies(session) == 80
        assert after == before  # no row rewritten: same ids, same updated_at
        assert await fts_is_consistent(sessions)

    async def test_failure_mid_batch_leaves_no_half_batch_and_the_trigger_in_place(self, sessions: Sessions) -> None:
        await write(sessions, bulk_upsert_companies, synthetic(10, seed=5))
        before = await snapshot(sessions)
        boom = company("boom.com", "Boom", website=cast(Any, Unbindable()))
        broken = [*synthetic(10, seed=6)[:4], boom, *synthetic(20, seed=7, prefix="x")]
        with pytest.raises(BIND_ERRORS):
            await write(sessions, bulk_upsert_companies, broken)
        assert await snapshot(sessions) == before
        assert await fts_is_consistent(sessions)
        await write(sessions, upsert_companies, [company("after.com", "After", description="genomics")])
        async with sessions() as session:
            found = await search_companies(session, terms=["genomics"], limit=500)
        assert "after.com" in {c.domain for c in found}


class TestCountryIndex:
    async def test_postgresql_has_it_and_sqlite_does_not(self, sessions: Sessions) -> None:
        async with sessions() as session:
            if session.get_bind().dialect.name == "sqlite":
                sql = "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'ix_company_country'"
                expected = 0
            else:
                sql = "SELECT count(*) FROM pg_indexes WHERE tablename = 'company' AND indexname = 'ix_company_country'"
                expected = 1
            assert await session.scalar(text(sql)) == expected
