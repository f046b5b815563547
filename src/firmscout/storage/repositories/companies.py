"""Company database queries: batch upserts keyed by domain, and full-text search (storage/dialects)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from firmscout.entities import CompanyProfile
from firmscout.storage import company_rows, dialects
from firmscout.storage.company_rows import BulkRow, bulk_rows, profile_of
from firmscout.storage.repositories.search_cache import RankedIds
from firmscout.storage.tables import Company, utcnow

__all__ = [
    "BulkRow",
    "bulk_rows",
    "bulk_upsert_companies",
    "count_companies",
    "get_companies_by_domains",
    "get_companies_by_ids",
    "get_companies_named",
    "get_company_by_domain",
    "profile_of",
    "search_companies",
    "search_company_ids",
    "upsert_companies",
]

# Rows per INSERT statement; bigger chunks only hold the write lock longer.
UPSERT_CHUNK = 2000
# SQLite allows 32,766 bound parameters per statement; stay well below for IN lists.
_IN_CHUNK = 900
# Letters and digits only: nothing that either query syntax could read as an operator.
_WORD = re.compile(r"[^\W_]+")
# A search term: a phrase, or a tuple of phrases a company's text must hold all of ("spend", "card").
Term = str | tuple[str, ...]


def _latest(rows: Sequence[CompanyProfile]) -> list[CompanyProfile]:
    # PostgreSQL refuses ON CONFLICT DO UPDATE hitting one row twice in a statement: the last record wins.
    latest: dict[str, CompanyProfile] = {}
    for record in rows:
        latest[record.domain] = record
    return list(latest.values())


async def _execute_upsert(session: AsyncSession, values: list[CompanyProfile]) -> None:
    stmt = company_rows.on_conflict_update(dialects.of(session).insert(company_rows.TABLE))
    now = utcnow()
    for start in range(0, len(values), UPSERT_CHUNK):
        chunk = [{**company_rows.row_of(c), "updated_at": now} for c in values[start : start + UPSERT_CHUNK]]
        await session.execute(stmt, chunk)


async def upsert_companies(session: AsyncSession, rows: Sequence[CompanyProfile]) -> int:
    """Insert or replace companies by domain; returns the number of distinct domains written.

    A record replaces every column of an existing row. Duplicate domains in `rows` collapse to the
    last one. Row by row: each new row is indexed by the full-text trigger (SQLite) as it lands.
    """
    values = _latest(rows)
    if not values:
        return 0
    await _execute_upsert(session, values)
    await session.flush()
    return len(values)


async def bulk_upsert_companies(
    session: AsyncSession, rows: Sequence[CompanyProfile], *, prepared: Sequence[BulkRow] | None = None
) -> int:
    """`upsert_companies` for large batches (file imports): the same rows and index, written in bulk.

    `prepared` is `bulk_rows(rows)` when the caller built it already; `rows` must then hold each domain
    once. Must run inside a write transaction (`unit_of_work`): on SQLite it drops and recreates the
    full-text insert trigger, which a rollback restores together with the rows.
    """
    if prepared is None:
        prepared = bulk_rows(_latest(rows))
    if not prepared:
        return 0
    await dialects.of(session).bulk_upsert_companies(session, prepared)
    await session.flush()
    return len(prepared)


@dataclass(frozen=True)
class Ranges:
    """Numeric bounds a search may apply. A company whose value is unknown is kept: only a known value
    outside the range excludes it (the grader, not the search, decides what unknown is worth)."""

    founded_from: int | None = None
    founded_to: int | None = None
    employees_from: int | None = None
    employees_to: int | None = None


def _filtered(stmt: Select[Any], countries: Sequence[str], ranges: Ranges | None = None) -> Select[Any]:
    if countries:
        stmt = stmt.where(Company.country.in_(list(countries)))
    if ranges is None:
        return stmt
    for field, low, high in ((Company.founded_year, ranges.founded_from, ranges.founded_to),
                             (Company.employees, ranges.employees_from, ranges.employees_to)):
        if low is not None:
            stmt = stmt.where(or_(field.is_(None), field >= low))
        if high is not None:
            stmt = stmt.where(or_(field.is_(None), field <= high))
    return stmt


def _profiles() -> Select[Any]:
    """Companies as a source hands them on: every column but `search_text`, a concatenation of the others
    that only the full-text index reads (about as large as the rest of the row). Reading it anyway raises."""
    return select(Company).options(defer(Company.search_text, raiseload=True))


async def search_companies(
    session: AsyncSession,
    *,
    terms: Sequence[Term],
    countries: Sequence[str] = (),
    ranges: Ranges | None = None,
    limit: int,
    offset: int = 0,
    ranked: RankedIds | None = None,
) -> list[Company]:
    """Companies matching any of `terms`, best first, ties broken by id so offset paging is stable.

    Terms are user text: only their letters and digits reach the query, so no input can cause a
    syntax error. Terms with no words at all match nothing. With no terms, companies (optionally in
    `countries`) come back in id order. With `ranked`, the ids of the first `ranked.window` ranks are
    kept there and later pages of the same search are read by id instead of ranking again.
    """
    if not terms:
        listing = _filtered(_profiles(), countries, ranges).order_by(Company.id)
        await dialects.of(session).plan_for_values(session)
        return list(await session.scalars(listing.limit(limit).offset(offset)))
    if ranked is None:
        rows = _ranked_search(session, _profiles(), terms, countries, ranges)
        if rows is None:
            return []
        await dialects.of(session).plan_for_values(session)
        return list(await session.scalars(rows.limit(limit).offset(offset)))
    key = (tuple(terms), tuple(countries), ranges)
    ids = ranked.get(key, offset + limit)
    if ids is None:
        asked = max(ranked.window, offset + limit)
        ids = await search_company_ids(session, terms=terms, countries=countries, ranges=ranges, limit=asked)
        ranked.put(key, ids, asked=asked)
    page = ids[offset : offset + limit]
    found = {company.id: company for company in await session.scalars(_profiles().where(Company.id.in_(page)))}
    return [found[i] for i in page if i in found]


async def search_company_ids(
    session: AsyncSession, *, terms: Sequence[Term], countries: Sequence[str] = (), ranges: Ranges | None = None,
    limit: int,
) -> list[int]:
    """The ids of the first `limit` companies `search_companies` would return: ranking reads the index
    alone, so a caller merging several searches loads each profile once."""
    best = _ranked_search(session, select(Company.id), terms, countries, ranges)
    if best is None:
        return []
    await dialects.of(session).plan_for_values(session)
    return list(await session.scalars(best.limit(limit)))


def _ranked_search(
    session: AsyncSession, columns: Select[Any], terms: Sequence[Term], countries: Sequence[str], ranges: Ranges | None
) -> Select[Any] | None:
    """`columns` of the companies matching `terms`, best first; None when the terms hold no word."""
    clauses = []
    for term in terms:
        phrases = [words for phrase in ((term,) if isinstance(term, str) else term) if (words := _WORD.findall(phrase))]
        if phrases:
            clauses.append(phrases)
    if not clauses:
        return None
    return _filtered(dialects.of(session).text_search(columns, company_rows.TABLE, clauses), countries, ranges)


async def count_companies(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Company)) or 0)


async def get_company_by_domain(session: AsyncSession, domain: str) -> Company | None:
    return await session.scalar(select(Company).where(Company.domain == domain))


async def get_companies_named(session: AsyncSession, name: str, limit: int = 20) -> list[Company]:
    """Companies whose name is `name` or starts with it as a word ("Lockheed Martin" → "Lockheed Martin
    Corporation"), case-insensitively; a scan, run once per relationship query."""
    lowered = name.strip().lower()
    if not lowered:
        return []
    prefix = lowered.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + " %"
    stmt = _profiles().where(
        or_(func.lower(Company.name) == lowered, func.lower(Company.name).like(prefix, escape="\\"))
    )
    return list(await session.scalars(stmt.order_by(func.length(Company.name), Company.id).limit(limit)))


async def get_companies_by_domains(session: AsyncSession, domains: Iterable[str]) -> dict[str, Company]:
    wanted = sorted(set(domains))
    found: dict[str, Company] = {}
    for start in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[start : start + _IN_CHUNK]
        for company in await session.scalars(select(Company).where(Company.domain.in_(chunk))):
            found[company.domain] = company
    return found


async def get_companies_by_ids(
    session: AsyncSession, ids: Sequence[int], *, countries: Sequence[str] = (), ranges: Ranges | None = None
) -> list[Company]:
    """The companies with these ids that pass the same country and range filters as a search, in `ids` order."""
    found: dict[int, Company] = {}
    wanted = list(dict.fromkeys(ids))
    for start in range(0, len(wanted), _IN_CHUNK):
        stmt = _filtered(_profiles().where(Company.id.in_(wanted[start : start + _IN_CHUNK])), countries, ranges)
        for company in await session.scalars(stmt):
            found[company.id] = company
    return [found[i] for i in wanted if i in found]
