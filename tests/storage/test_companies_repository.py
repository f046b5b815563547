"""Company repository on SQLite (FTS5) and PostgreSQL (tsvector): upsert, search, paging, junk input."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from firmscout.entities import CompanyProfile
from firmscout.storage.db import read_only, unit_of_work
from firmscout.storage.repositories.companies import (
    Ranges,
    Term,
    count_companies,
    get_companies_by_domains,
    get_company_by_domain,
    profile_of,
    search_companies,
    search_company_ids,
    upsert_companies,
)
from tests.factories import company

Sessions = async_sessionmaker[AsyncSession]


def record(domain: str, name: str, **fields: Any) -> CompanyProfile:
    return CompanyProfile(domain=domain, name=name, website=f"https://{domain}", origin="test", **fields)


COMPANIES = [
    record("bbva.com", "BBVA", country="Spain", city="Bilbao", industries=("Banks", "Financial services"),
           description="Spanish multinational bank"),
    record("bankinter.com", "Bankinter", country="Spain", city="Madrid", industries=("Banks",),
           description="Spanish bank for retail and business banking"),
    record("db.com", "Deutsche Bank", country="Germany", industries=("Banks",), description="German bank"),
    record("telefonica.com", "Telefónica", country="Spain", industries=("Telecommunications",),
           description="Spanish telecom operator", tags=("mobile-network", "broadband")),
    record("basf.com", "BASF", country="Germany", industries=("Chemicals",), description="German chemical company",
           products="Plastics Coatings Crop protection"),
]


async def seed(sessions: Sessions, rows: list[CompanyProfile]) -> int:
    async with sessions() as session, session.begin():
        return await upsert_companies(session, rows)


async def search(sessions: Sessions, terms: list[Term], **kwargs: Any) -> list[str]:
    kwargs.setdefault("limit", 50)
    kwargs.setdefault("offset", 0)
    async with sessions() as session:
        return [c.domain for c in await search_companies(session, terms=terms, **kwargs)]


class TestUpsert:
    async def test_inserts_and_counts(self, sessions: Sessions) -> None:
        assert await seed(sessions, COMPANIES) == len(COMPANIES)
        async with sessions() as session:
            assert await count_companies(session) == len(COMPANIES)
            bbva = await get_company_by_domain(session, "bbva.com")
            assert await get_company_by_domain(session, "nope.example") is None
        assert bbva is not None
        assert bbva.industries == ["Banks", "Financial services"]
        assert bbva.city == "Bilbao"
        assert "multinational" in bbva.search_text and "Bilbao" in bbva.search_text

    async def test_update_replaces_row_and_reindexes(self, sessions: Sessions) -> None:
        await seed(sessions, COMPANIES)
        assert await search(sessions, ["multinational"]) == ["bbva.com"]
        changed = record("bbva.com", "BBVA", country="Spain", description="Spanish lender with a zebra logo")
        assert await seed(sessions, [changed]) == 1
        async with sessions() as session:
            assert await count_companies(session) == len(COMPANIES)
            bbva = await get_company_by_domain(session, "bbva.com")
        assert bbva is not None and bbva.description == "Spanish lender with a zebra logo"
        assert bbva.city is None  # a record replaces every column
        assert await search(sessions, ["zebra"]) == ["bbva.com"]
        assert await search(sessions, ["multinational"]) == []

    async def test_duplicate_domains_in_one_call_keep_the_last(self, sessions: Sessions) -> None:
        rows = [record("acme.com", "Acme Old"), record("acme.com", "Acme New")]
        assert await seed(sessions, rows) == 1
        async with sessions() as session:
            acme = await get_company_by_domain(session, "acme.com")
        assert acme is not None and acme.name == "Acme New"

    async def test_many_rows_in_chunks(self, sessions: Sessions) -> None:
        rows = [record(f"company{i}.com", f"Company {i}", description=f"widget maker number {i}") for i in range(4500)]
        assert await seed(sessions, rows) == 4500
        async with sessions() as session:
            assert await count_companies(session) == 4500
            found = await get_companies_by_domains(session, [r.domain for r in rows[:1500]])
        assert len(found) == 1500
        assert profile_of(found["company7.com"]) == rows[7]
        assert len(await search(sessions, ["widget"], limit=5000)) == 4500

    async def test_unchanged_record_is_not_rewritten(self, sessions: Sessions) -> None:
        await seed(sessions, COMPANIES[:1])
        async with sessions() as session:
            before = await get_company_by_domain(session, "bbva.com")
        await seed(sessions, COMPANIES[:1])
        async with sessions() as session:
            after = await get_company_by_domain(session, "bbva.com")
        assert before is not None and after is not None
        assert after.updated_at == before.updated_at
        assert await search(sessions, ["multinational"]) == ["bbva.com"]

    async def test_empty_call_writes_nothing(self, sessions: Sessions) -> None:
        assert await seed(sessions, []) == 0


class TestSearch:
    async def test_any_term_matches(self, sessions: Sessions) -> None:
        await seed(sessions, COMPANIES)
        assert set(await search(sessions, ["telecom", "chemical"])) == {"telefonica.com", "basf.com"}

    async def test_prefix_and_stemming(self, sessions: Sessions) -> None:
        await seed(sessions, COMPANIES)
        assert set(await search(sessions, ["bank"])) == {"bbva.com", "bankinter.com", "db.com"}
        assert set(await search(sessions, ["banks"])) >= {"bbva.com", "db.com"}
        assert await search(sessions, ["chem"]) == ["basf.com"]

    async def test_multi_word_term_is_a_phrase(self, sessions: Sessions) -> None:
        await seed(sessions, COMPANIES)
        assert await search(sessions, ["crop protection"]) == ["basf.com"]
        assert await search(sessions, ["protection crop"]) == []

    async def test_a_tuple_term_needs_all_its_phrases(self, sessions: Sessions) -> None:
        await seed(sessions, COMPANIES)
        assert set(await search(sessions, [("spanish", "bank")])) == {"bbva.com", "bankinter.com"}
        assert set(await search(sessions, [("spanish", "bank"), ("german", "chemical")])) == {
            "bbva.com", "bankinter.com", "basf.com",
        }
        assert await search(sessions, [("spanish", "crop protection")]) == []
        assert await search(sessions, [("german", "crop protection")]) == ["basf.com"]

    async def test_ids_first_search_keeps_the_same_order(self, sessions: Sessions) -> None:
        await seed(sessions, COMPANIES)
        async with sessions() as session:
            ids = await search_company_ids(session, terms=["bank", ("german", "chemical")], limit=50)
            rows = await search_companies(session, terms=["bank", ("german", "chemical")], limit=50)
        assert ids == [row.id for row in rows] and len(ids) == 4

    async def test_tags_products_and_places_are_searchable(self, sessions: Sessions) -> None:
        await seed(sessions, COMPANIES)
        assert await search(sessions, ["broadband"]) == ["telefonica.com"]
        assert await search(sessions, ["plastics"]) == ["basf.com"]
        assert await search(sessions, ["bilbao"]) == ["bbva.com"]

    async def test_diacritics_do_not_matter_on_sqlite(self, sessions: Sessions, db_url: str) -> None:
        if not db_url.startswith("sqlite"):
            pytest.skip("PostgreSQL's 'english' configuration keeps accents (no unaccent extension)")
        await seed(sessions, COMPANIES)
        assert await search(sessions, ["telefonica"]) == ["telefonica.com"]

    async def test_country_filter(self, sessions: Sessions) -> None:
        await seed(sessions, COMPANIES)
        assert set(await search(sessions, ["bank"], countries=["Spain"])) == {"bbva.com", "bankinter.com"}
        assert await search(sessions, ["bank"], countries=["France"]) == []
        assert set(await search(sessions, ["bank"], countries=["Germany", "Spain"])) == {
            "bbva.com", "bankinter.com", "db.com",
        }

    async def test_ranks_better_matches_first(self, sessions: Sessions) -> None:
        await seed(sessions, [
            record("onebank.com", "One", description="a company that also has a bank"),
            record("bankbank.com", "Bank Bank", description="bank bank bank: the bank for banks"),
        ])
        assert await search(sessions, ["bank"]) == ["bankbank.com", "onebank.com"]

    async def test_paging_is_stable_and_complete(self, sessions: Sessions) -> None:
        # Identical text gives identical scores: only the id tie-break orders these.
        await seed(sessions, [record(f"same{i}.com", "Same", description="identical robotics text") for i in range(23)])
        pages = [await search(sessions, ["robotics"], limit=5, offset=o) for o in range(0, 25, 5)]
        flat = [d for page in pages for d in page]
        assert len(flat) == 23 and len(set(flat)) == 23
        assert pages == [await search(sessions, ["robotics"], limit=5, offset=o) for o in range(0, 25, 5)]
        assert flat == await search(sessions, ["robotics"], limit=100)

    async def test_no_terms_lists_by_id_with_country_filter(self, sessions: Sessions) -> None:
        await seed(sessions, COMPANIES)
        assert await search(sessions, [], countries=["Germany"]) == ["db.com", "basf.com"]
        assert len(await search(sessions, [])) == len(COMPANIES)
        assert await search(sessions, [], limit=2, offset=1) == ["bankinter.com", "db.com"]

    @pytest.mark.parametrize(
        "junk",
        [
            '"', "'", "*", "bank*", "-bank", "NOT", "AND OR NOT", "NEAR(bank)", "bank:*", "a & b | !c",
            "(((", ")", "\\", "%_", "col:bank", "^bank", "{bank}", "'; DROP TABLE company; --", "\x00bank",
            "<->", "bank <-> spain", "a" * 3000, "🏦 bank", "ü", "_", "__init__", "1", "the", "über-bank",
        ],
    )
    async def test_junk_terms_never_raise(self, sessions: Sessions, junk: str) -> None:
        await seed(sessions, COMPANIES[:2])
        result = await search(sessions, [junk])
        assert isinstance(result, list)
        assert isinstance(await search(sessions, [junk, "bank"]), list)
        assert isinstance(await search(sessions, [(junk, "bank"), (junk,)]), list)

    async def test_terms_without_words_match_nothing(self, sessions: Sessions) -> None:
        await seed(sessions, COMPANIES)
        assert await search(sessions, ["***", "()"]) == []


class TestSearchPlans:
    async def test_a_prepared_search_is_still_planned_for_its_own_words(self, sessions: Sessions, db_url: str) -> None:
        """Reads run prepared statements (storage/db.read_only), and PostgreSQL may give a prepared statement
        one generic plan after five runs; which index pays off depends on the words and countries searched.
        The server is told here to prefer generic plans, as its own cost estimate may decide at any time."""
        if db_url.startswith("sqlite"):
            pytest.skip("PostgreSQL's plan cache")
        await seed(sessions, COMPANIES)
        for word in ("bank", "telecom", "chemical", "bilbao", "madrid", "broadband", "plastics", "german", "spanish"):
            async with read_only(sessions) as session:
                await session.execute(text("SET plan_cache_mode = force_generic_plan"))
                await search_companies(session, terms=[word], countries=["Spain", "Germany"], limit=5)
                plans = (await session.execute(text(
                    "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
                    " WHERE statement LIKE 'SELECT company.id%ts_rank%'"
                ))).all()
                await session.execute(text("RESET plan_cache_mode"))
        assert plans, "the search was never prepared"
        assert all(generic == 0 for generic, _ in plans), plans


class TestRangeFilters:
    async def test_known_values_outside_the_range_are_dropped_unknown_ones_kept(
        self, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        async with unit_of_work(sessions) as session:
            await upsert_companies(session, [
                company("old-bank.com", "Old Bank", description="bank", founded_year=1850),
                company("new-bank.com", "New Bank", description="bank", founded_year=2020),
                company("some-bank.com", "Some Bank", description="bank"),
            ])
        async with sessions() as session:
            found = await search_companies(session, terms=["bank"], ranges=Ranges(founded_to=1900), limit=10)
        assert {c.domain for c in found} == {"old-bank.com", "some-bank.com"}
