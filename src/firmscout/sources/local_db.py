"""Source `extruct_db`: full-text search over the local company database."""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from firmscout.entities import CompanyProfile, SearchRequest, SourceHit, employee_bucket
from firmscout.errors import SourceError
from firmscout.sources.base import SourcePage
from firmscout.storage.db import is_transient
from firmscout.storage.repositories.companies import Ranges, search_companies, to_record
from firmscout.storage.repositories.search_cache import RankedIds
from firmscout.storage.tables import Company

SOURCE_NAME = "extruct_db"


def company_profile(company: Company) -> CompanyProfile:
    record = to_record(company)
    fields = {name: getattr(record, name) for name in CompanyProfile.__dataclass_fields__ if hasattr(record, name)}
    fields["employee_count"] = record.employee_count or employee_bucket(record.employees)
    fields["sources"] = tuple(url for url in (company.wikipedia_url, company.website) if url)
    return CompanyProfile(**fields)


def _offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    try:
        offset = int(cursor)
    except ValueError:
        raise SourceError(f"Invalid cursor {cursor!r} for source {SOURCE_NAME!r}: expected an offset.") from None
    if offset < 0:
        raise SourceError(f"Invalid cursor {cursor!r} for source {SOURCE_NAME!r}: offsets start at 0.")
    return offset


class LocalDatabaseSource:
    """Full-text search in the `company` table; every hit carries the complete stored profile.

    The cursor is the offset of the next page. Ranking ties break by company id, so a given
    (request, cursor) always returns the same page while the table is unchanged.
    """

    name = SOURCE_NAME

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        # A task's later pages are slices of one ranking (60 s at most), not a new ranking per page.
        self._ranked = RankedIds()

    async def search(self, request: SearchRequest, cursor: str | None, limit: int) -> SourcePage:
        offset = _offset(cursor)
        if limit <= 0:
            return SourcePage(hits=(), next_cursor=cursor)
        try:
            async with self._sessions() as session:
                c = request.constraints
                rows = await search_companies(
                    session,
                    terms=request.terms,
                    countries=c.countries,
                    # Known values far outside the asked range never make a result; leave them in the index.
                    ranges=Ranges(c.founded_after, c.founded_before, c.min_employees, c.max_employees),
                    limit=limit,
                    offset=offset,
                    ranked=self._ranked,
                )
        except SQLAlchemyError as exc:
            # The driver's own message, first line only: the full text carries SQL and parameters.
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise SourceError(
                f"Data source {SOURCE_NAME!r}: company database search failed ({reason}).",
                transient=is_transient(exc),
            ) from exc
        hits = tuple(self._hit(company) for company in rows)
        next_cursor = str(offset + len(rows)) if len(rows) == limit else None
        return SourcePage(hits=hits, next_cursor=next_cursor)

    def _hit(self, company: Company) -> SourceHit:
        profile = company_profile(company)
        return SourceHit(
            domain=company.domain,
            name=company.name,
            source=self.name,
            url=company.website,
            snippet=company.description,
            profile=profile,
            company_id=company.id,
        )
