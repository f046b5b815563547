"""LocalDatabaseSource against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from firmscout.entities import CompanyProfile, Constraints, SearchRequest
from firmscout.errors import SourceError
from firmscout.sources.base import Source
from firmscout.sources.local_db import LocalDatabaseSource
from firmscout.storage.repositories.companies import upsert_companies

Sessions = async_sessionmaker[AsyncSession]

BANKS = [
    CompanyProfile(
        domain="bbva.com", name="BBVA", website="https://www.bbva.com", country="Spain", city="Bilbao",
        industries=("Banks",), description="Spanish bank", founded_year=1857, employees=125_000,
        wikipedia_url="https://en.wikipedia.org/wiki/BBVA", origin="test",
    ),
    CompanyProfile(domain="bankinter.com", name="Bankinter", website="https://www.bankinter.com", country="Spain",
                  industries=("Banks",), description="Spanish bank", origin="test"),
    CompanyProfile(domain="caixabank.com", name="CaixaBank", country="Spain", industries=("Banks",),
                  description="Spanish bank", origin="test"),
    CompanyProfile(domain="db.com", name="Deutsche Bank", country="Germany", industries=("Banks",),
                  description="German bank", origin="test"),
]


def request(*terms: str, countries: tuple[str, ...] = (), cities: tuple[str, ...] = ()) -> SearchRequest:
    return SearchRequest(query=" ".join(terms), terms=terms,
                         constraints=Constraints(countries=countries, cities=cities))


@pytest.fixture
async def source(sessions: Sessions) -> LocalDatabaseSource:
    async with sessions() as session, session.begin():
        await upsert_companies(session, BANKS)
    return LocalDatabaseSource(sessions)


class TestSearch:
    def test_is_a_source(self, source: LocalDatabaseSource) -> None:
        checked: Source = source
        assert checked.name == "extruct_db"

    async def test_hits_carry_full_profiles(self, source: LocalDatabaseSource) -> None:
        page = await source.search(request("bank", countries=("Spain",)), None, 10)
        assert {h.domain for h in page.hits} == {"bbva.com", "bankinter.com", "caixabank.com"}
        assert page.next_cursor is None
        bbva = next(h for h in page.hits if h.domain == "bbva.com")
        assert bbva.source == "extruct_db" and bbva.company_id is not None
        assert bbva.url == "https://www.bbva.com" and bbva.snippet == "Spanish bank"
        profile = bbva.profile
        assert profile is not None
        assert (profile.country, profile.city, profile.founded_year) == ("Spain", "Bilbao", 1857)
        assert profile.industries == ("Banks",)
        assert profile.employee_count == "10001+"  # derived from the headcount when not stored
        assert profile.sources == ("https://en.wikipedia.org/wiki/BBVA", "https://www.bbva.com")
        caixa = next(h for h in page.hits if h.domain == "caixabank.com")
        assert caixa.profile is not None and caixa.profile.sources == ()

    async def test_pages_with_offset_cursor(self, source: LocalDatabaseSource) -> None:
        seen: list[str] = []
        cursor: str | None = None
        for _ in range(10):
            page = await source.search(request("bank"), cursor, 3)
            seen += [h.domain for h in page.hits]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert sorted(seen) == sorted(b.domain for b in BANKS)
        assert len(seen) == len(set(seen))

    async def test_full_last_page_needs_one_more_empty_page(self, source: LocalDatabaseSource) -> None:
        first = await source.search(request("bank"), None, 4)
        assert len(first.hits) == 4 and first.next_cursor == "4"
        second = await source.search(request("bank"), first.next_cursor, 4)
        assert second.hits == () and second.next_cursor is None

    async def test_same_request_same_page(self, source: LocalDatabaseSource) -> None:
        one = await source.search(request("bank"), "1", 2)
        two = await source.search(request("bank"), "1", 2)
        assert one == two

    async def test_no_match_in_country_is_an_empty_final_page(self, source: LocalDatabaseSource) -> None:
        page = await source.search(request("bank", countries=("France",)), None, 10)
        assert page.hits == () and page.next_cursor is None

    async def test_no_terms_lists_the_country(self, source: LocalDatabaseSource) -> None:
        page = await source.search(request(countries=("Germany",)), None, 10)
        assert [h.domain for h in page.hits] == ["db.com"]

    async def test_a_city_is_searched_first_then_the_whole_ranking(self, source: LocalDatabaseSource) -> None:
        first = await source.search(request("bank", countries=("Spain",), cities=("Bilbao",)), None, 10)
        assert [h.domain for h in first.hits] == ["bbva.com"]
        assert first.next_cursor == "all:0", "a city spelled otherwise in the data is still reached"
        wide = await source.search(request("bank", countries=("Spain",), cities=("Bilbao",)), first.next_cursor, 2)
        assert len(wide.hits) == 2 and wide.next_cursor == "all:2"
        rest = await source.search(request("bank", countries=("Spain",), cities=("Bilbao",)), wide.next_cursor, 2)
        assert {h.domain for h in (*wide.hits, *rest.hits)} == {"bbva.com", "bankinter.com", "caixabank.com"}
        assert rest.next_cursor is None

    async def test_a_city_without_terms_lists_its_companies(self, source: LocalDatabaseSource) -> None:
        page = await source.search(request(countries=("Spain",), cities=("Bilbao",)), None, 10)
        assert [h.domain for h in page.hits] == ["bbva.com"]

    async def test_bad_cursor_is_a_source_error(self, source: LocalDatabaseSource) -> None:
        with pytest.raises(SourceError):
            await source.search(request("bank"), "not-an-offset", 10)


async def test_database_failure_is_a_source_error(tmp_path: object) -> None:
    from firmscout.storage.db import create_engine, session_factory

    engine = create_engine(f"sqlite:///{tmp_path}/empty-unmigrated.db")
    try:
        with pytest.raises(SourceError, match=r"company database search failed \(no such table"):
            await LocalDatabaseSource(session_factory(engine)).search(request("bank"), None, 10)
    finally:
        await engine.dispose()
