"""Source `extruct_db`: full-text search over the local company database."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from firmscout.embeddings.fusion import reciprocal_rank_fusion
from firmscout.entities import CompanyProfile, SearchRequest, SourceHit, employee_bucket
from firmscout.errors import SourceError
from firmscout.geography.cities import spellings
from firmscout.lookalike import Filters, similar_to
from firmscout.sources.base import SourcePage
from firmscout.storage.db import is_transient, read_only
from firmscout.storage.repositories.companies import (
    Ranges,
    Term,
    get_companies_by_ids,
    profile_of,
    search_companies,
)
from firmscout.storage.repositories.search_cache import RankedIds
from firmscout.storage.tables import Company

if TYPE_CHECKING:  # numpy and the model are only imported when semantic retrieval is configured
    from firmscout.embeddings.service import SemanticRetriever

SOURCE_NAME = "extruct_db"


def company_profile(company: Company) -> CompanyProfile:
    return _sourced(profile_of(company))


def _sourced(profile: CompanyProfile) -> CompanyProfile:
    return replace(
        profile,
        employee_count=profile.employee_count or employee_bucket(profile.employees),
        sources=tuple(url for url in (profile.wikipedia_url, profile.website) if url),
    )


def _failed(what: str, exc: SQLAlchemyError) -> SourceError:
    # The driver's own message, first line only: the full text carries SQL and parameters.
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    return SourceError(f"Data source {SOURCE_NAME!r}: {what} failed ({reason}).", transient=is_transient(exc))


# The cursor of the second pass over a query with cities: the whole ranking, after the cities' own.
_WIDE = "all:"


def _offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    try:
        offset = int(cursor.removeprefix(_WIDE))
    except ValueError:
        raise SourceError(f"Invalid cursor {cursor!r} for source {SOURCE_NAME!r}: expected an offset.") from None
    if offset < 0:
        raise SourceError(f"Invalid cursor {cursor!r} for source {SOURCE_NAME!r}: offsets start at 0.")
    return offset


def _terms(request: SearchRequest, cursor: str | None) -> list[Term]:
    """The request's terms; with cities asked, first each term beside each city in one company's text (a city
    is a small share of its country, and a ranking over the whole country reaches few of them within a
    budget), then, from the `_WIDE` cursor on, the whole ranking (a city spelled otherwise in the data)."""
    cities = request.constraints.cities
    if not cities or (cursor or "").startswith(_WIDE):
        return list(request.terms)
    named = [spelled for city in cities for spelled in spellings(city)]
    return [(term, city) for term in request.terms for city in named] if request.terms else list(named)


def _ranges(request: SearchRequest) -> Ranges:
    c = request.constraints
    # Known values far outside the asked range never make a result; leave them in the index.
    return Ranges(c.founded_after, c.founded_before, c.min_employees, c.max_employees)


class LocalDatabaseSource:
    """Full-text search in the `company` table; every hit carries the complete stored profile.

    The cursor is the offset of the next page. Ranking ties break by company id, so a given
    (request, cursor) always returns the same page while the table is unchanged.

    With a `semantic` retriever (and stored vectors) the list is hybrid: its head is the reciprocal rank
    fusion of the best `top_k` full-text hits and the `top_k` nearest companies by embedding (both under
    the same country/size/founding filters), so companies described in other words than the query's
    are discovered too; after the head the full-text ranking continues. The grader still decides.
    """

    name = SOURCE_NAME

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], semantic: SemanticRetriever | None = None
    ) -> None:
        self._sessions = sessions
        self._semantic = semantic
        # A task's later pages are slices of one ranking (60 s at most), not a new ranking per page.
        self._ranked = RankedIds()

    async def search(self, request: SearchRequest, cursor: str | None, limit: int) -> SourcePage:
        offset = _offset(cursor)
        if limit <= 0:
            return SourcePage(hits=(), next_cursor=cursor)
        if request.reference is not None:
            return await self._lookalikes(request, request.reference, offset, limit)
        try:
            page = await self._hybrid_page(request, offset, limit) if self._semantic is not None else None
            if page is not None:
                return page
            async with read_only(self._sessions) as session:
                rows = await search_companies(
                    session,
                    terms=_terms(request, cursor),
                    countries=request.constraints.countries,
                    ranges=_ranges(request),
                    limit=limit,
                    offset=offset,
                    ranked=self._ranked,
                )
        except SQLAlchemyError as exc:
            raise _failed("company database search", exc) from exc
        hits = tuple(self._hit(company) for company in rows)
        wide = (cursor or "").startswith(_WIDE)
        if len(rows) == limit:
            next_cursor: str | None = f"{_WIDE if wide else ''}{offset + len(rows)}"
        else:
            next_cursor = f"{_WIDE}0" if request.constraints.cities and not wide else None
        return SourcePage(hits=hits, next_cursor=next_cursor)

    async def _hybrid_page(self, request: SearchRequest, offset: int, limit: int) -> SourcePage | None:
        """A page of the fused list; None when no vectors are stored (plain full-text then)."""
        assert self._semantic is not None
        depth = self._semantic.settings.top_k
        dense = await self._semantic.nearest(request.query, request.constraints, depth)
        if not dense:
            return None
        countries, ranges = request.constraints.countries, _ranges(request)
        async with read_only(self._sessions) as session:
            text_hits = await search_companies(
                session, terms=request.terms, countries=countries, ranges=ranges, limit=depth, offset=0,
                ranked=self._ranked,
            )
            head = reciprocal_rank_fusion([[company.id for company in text_hits], [cid for cid, _ in dense]])
            start, end = offset, offset + limit
            rows: list[Company] = []
            if start < len(head):
                known = {company.id: company for company in text_hits}
                wanted = head[start:end]
                # Dense-only companies pass the database's own filters too (the index's copy may lag).
                extra = await get_companies_by_ids(
                    session, [i for i in wanted if i not in known], countries=countries, ranges=ranges
                )
                known.update((company.id, company) for company in extra)
                rows.extend(known[i] for i in wanted if i in known)
            exhausted = False
            if end > len(head):
                # Past the head the full-text ranking continues where its top `depth` ended.
                tail_limit = end - max(start, len(head))
                tail = await search_companies(
                    session, terms=request.terms, countries=countries, ranges=ranges,
                    limit=tail_limit, offset=depth + max(0, start - len(head)), ranked=self._ranked,
                )
                # Dense hits already delivered in the head are not repeated (the page may come out shorter).
                fused = set(head)
                rows.extend(company for company in tail if company.id not in fused)
                exhausted = len(tail) < tail_limit
        hits = tuple(self._hit(company) for company in rows)
        return SourcePage(hits=hits, next_cursor=None if exhausted else str(end))

    async def _lookalikes(
        self, request: SearchRequest, reference: CompanyProfile, offset: int, limit: int
    ) -> SourcePage:
        """A page of the lookalike ranking of `reference` (the one the similar endpoint serves), in the
        query's countries."""
        filters = Filters(include_countries=request.constraints.countries)
        try:
            matches = await similar_to(self._sessions, reference, filters, offset=offset, limit=limit)
        except SQLAlchemyError as exc:
            raise _failed("lookalike search", exc) from exc
        hits = tuple(self._profile_hit(m.company_id, _sourced(m.profile)) for m in matches)
        return SourcePage(hits=hits, next_cursor=str(offset + len(hits)) if len(hits) == limit else None)

    def _hit(self, company: Company) -> SourceHit:
        return self._profile_hit(company.id, company_profile(company))

    def _profile_hit(self, company_id: int, profile: CompanyProfile) -> SourceHit:
        return SourceHit(
            domain=profile.domain,
            name=profile.name,
            source=self.name,
            url=profile.website,
            snippet=profile.description,
            profile=profile,
            company_id=company_id,
        )
