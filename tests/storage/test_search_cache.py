"""Ranked ids kept between pages of one search: same pages as ranking every time, one ranking per search."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from firmscout.storage.db import unit_of_work
from firmscout.storage.repositories.companies import Ranges, search_companies, upsert_companies
from firmscout.storage.repositories.search_cache import RankedIds
from tests.factories import company
from tests.storage.test_companies_bulk import synthetic

Sessions = async_sessionmaker[AsyncSession]


async def pages(sessions: Sessions, ranked: RankedIds | None, size: int, **search: object) -> list[list[str]]:
    out = []
    offset = 0
    while True:
        async with sessions() as session:
            rows = await search_companies(session, limit=size, offset=offset, ranked=ranked, **search)  # type: ignore[arg-type]
        out.append([c.domain for c in rows])
        if len(rows) < size:
            return out
        offset += size


class TestRankedIds:
    def test_covers_what_was_asked_or_everything(self) -> None:
        cache = RankedIds(window=3)
        cache.put("a", [1, 2, 3], asked=3)  # as many as asked: there may be more
        cache.put("b", [4, 5], asked=3)  # fewer than asked: that is all of them
        assert cache.get("a", 3) == [1, 2, 3] and cache.get("a", 4) is None
        assert cache.get("b", 50) == [4, 5]
        assert cache.get("c", 1) is None

    def test_expires_and_evicts_the_least_recent(self) -> None:
        cache = RankedIds(size=2)
        cache.put("a", [1], asked=5)
        cache.put("b", [2], asked=5)
        assert cache.get("a", 1) == [1]  # "a" is now the most recent
        cache.put("c", [3], asked=5)
        assert (cache.get("a", 1), cache.get("b", 1), cache.get("c", 1)) == ([1], None, [3])
        stale = RankedIds(ttl_s=0.0)
        stale.put("a", [1], asked=5)
        assert stale.get("a", 1) is None


class TestCachedSearch:
    @pytest.mark.parametrize(
        "search",
        [
            {"terms": ["bank", "robot"]},
            {"terms": ["software"], "countries": ["Spain", "Sweden"]},
            {"terms": ["dairy farming", "genomics"], "ranges": Ranges(founded_from=2000)},
            {"terms": ["!!!"]},
        ],
    )
    async def test_same_pages_as_ranking_every_page(self, sessions: Sessions, search: dict[str, object]) -> None:
        async with unit_of_work(sessions) as session:
            await upsert_companies(session, synthetic(150, seed=11))
        # A window smaller than the result list: later pages need a second, deeper ranking.
        cached = await pages(sessions, RankedIds(window=40), 15, **search)
        assert cached == await pages(sessions, None, 15, **search)
        if search["terms"] != ["!!!"]:
            assert len(cached) > 3

    async def test_later_pages_come_from_the_first_ranking(self, sessions: Sessions) -> None:
        async with unit_of_work(sessions) as session:
            await upsert_companies(session, synthetic(60, seed=12))
        ranked = RankedIds()
        async with sessions() as session:
            first = await search_companies(session, terms=["bank"], limit=5, ranked=ranked)
        async with unit_of_work(sessions) as session:  # a new match, written after the ranking
            await upsert_companies(session, [company("zz.com", "Bank Bank", description="bank bank bank bank")])
        async with sessions() as session:
            again = await search_companies(session, terms=["bank"], limit=5, ranked=ranked)
            cached_all = await search_companies(session, terms=["bank"], limit=500, ranked=ranked)
            fresh_all = await search_companies(session, terms=["bank"], limit=500)
        assert [c.domain for c in again] == [c.domain for c in first]
        assert "zz.com" not in {c.domain for c in cached_all}
        assert {c.domain for c in fresh_all} == {c.domain for c in cached_all} | {"zz.com"}
