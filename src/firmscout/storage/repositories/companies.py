"""Company database queries: batch upsert keyed by domain, full-text search on SQLite FTS5 / PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Table,
    Text,
    cast,
    column,
    func,
    literal_column,
    or_,
    select,
    table,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from firmscout.storage.records import CompanyRecord
from firmscout.storage.tables import Company, utcnow

__all__ = [
    "CompanyRecord",
    "count_companies",
    "get_companies_by_domains",
    "get_companies_by_ids",
    "get_company_by_domain",
    "search_companies",
    "to_record",
    "upsert_companies",
]

# Rows per INSERT statement. SQLite runs an executemany of one prepared statement; PostgreSQL gets
# multi-row VALUES pages from SQLAlchemy's insertmanyvalues. Bigger chunks only hold the lock longer.
UPSERT_CHUNK = 2000
# SQLite allows 32,766 bound parameters per statement; stay well below for IN lists.
_IN_CHUNK = 900
# Prefix matching on "ab*" would match half the index; below this length a word must match whole.
_MIN_PREFIX_LEN = 3
# Letters and digits only: nothing that either query syntax could read as an operator.
_WORD = re.compile(r"[^\W_]+")

_TABLE: Table = Company.__table__  # type: ignore[assignment]
_UPDATED_COLUMNS = [c.name for c in _TABLE.columns if c.name not in ("id", "domain")]
_COMPARED_COLUMNS = [name for name in _UPDATED_COLUMNS if name != "updated_at"]
_FTS = table("company_fts", column("rowid", Integer), column("company_fts"))
_SEARCH_VECTOR: ColumnElement[Any] = literal_column("company.search_vector")


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


async def upsert_companies(session: AsyncSession, rows: Sequence[CompanyRecord]) -> int:
    """Insert or replace companies by domain; returns the number of distinct domains written.

    A record replaces every column of an existing row. Duplicate domains in `rows` collapse to the
    last one, because PostgreSQL refuses ON CONFLICT DO UPDATE hitting one row twice in a statement.
    """
    latest: dict[str, CompanyRecord] = {}
    for record in rows:
        latest[record.domain] = record
    if not latest:
        return 0
    insert = sqlite.insert if _dialect(session) == "sqlite" else postgresql.insert
    stmt = insert(_TABLE)
    # Setting search_text in the update is what fires the SQLite `AFTER UPDATE OF search_text`
    # trigger that re-indexes the row in company_fts; PostgreSQL recomputes its generated column.
    stmt = stmt.on_conflict_do_update(
        index_elements=[_TABLE.c.domain],
        set_={name: stmt.excluded[name] for name in _UPDATED_COLUMNS},
        # Re-importing an unchanged row is a no-op: no write, and no full-text re-index (the costly part).
        where=or_(
            *(
                cast(_TABLE.c[name], Text).is_distinct_from(cast(stmt.excluded[name], Text))
                for name in _COMPARED_COLUMNS
            )
        ),
    )
    now = utcnow()
    values = list(latest.values())
    for start in range(0, len(values), UPSERT_CHUNK):
        chunk = [{**record.to_row(), "updated_at": now} for record in values[start : start + UPSERT_CHUNK]]
        await session.execute(stmt, chunk)
    await session.flush()
    return len(values)


def _fts5_query(terms: Iterable[str]) -> str:
    """Terms → FTS5 MATCH text: each term a quoted phrase (prefix on its last word), joined by OR."""
    phrases = []
    for term in terms:
        words = _WORD.findall(term)
        if not words:
            continue
        phrase = '"' + " ".join(words) + '"'
        if len(words[-1]) >= _MIN_PREFIX_LEN:
            phrase += " *"
        phrases.append(phrase)
    return " OR ".join(phrases)


def _tsquery(terms: Iterable[str]) -> str:
    """Terms → to_tsquery text: words of a term in sequence (<->), prefix on the last word, terms ORed."""
    phrases = []
    for term in terms:
        words = _WORD.findall(term)
        if not words:
            continue
        if len(words[-1]) >= _MIN_PREFIX_LEN:
            words[-1] += ":*"
        phrases.append("(" + " <-> ".join(words) + ")")
    return " | ".join(phrases)


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


async def search_companies(
    session: AsyncSession,
    *,
    terms: Sequence[str],
    countries: Sequence[str] = (),
    ranges: Ranges | None = None,
    limit: int,
    offset: int = 0,
) -> list[Company]:
    """Companies matching any of `terms`, best first, ties broken by id so offset paging is stable.

    Terms are user text: only their letters and digits reach the query, so no input can cause a
    syntax error. Terms with no words at all match nothing. With no terms, companies (optionally in
    `countries`) come back in id order.
    """
    if not terms:
        stmt = _filtered(select(Company), countries, ranges).order_by(Company.id)
    elif _dialect(session) == "sqlite":
        match = _fts5_query(terms)
        if not match:
            return []
        stmt = (
            select(Company)
            .join(_FTS, _FTS.c.rowid == Company.id)
            .where(_FTS.c.company_fts.op("MATCH")(match))
            # bm25() is lower-is-better.
            .order_by(func.bm25(literal_column("company_fts")), Company.id)
        )
        stmt = _filtered(stmt, countries, ranges)
    else:
        text = _tsquery(terms)
        if not text:
            return []
        query = func.to_tsquery("english", text)
        stmt = (
            select(Company)
            .where(_SEARCH_VECTOR.op("@@")(query))
            .order_by(func.ts_rank(_SEARCH_VECTOR, query).desc(), Company.id)
        )
        stmt = _filtered(stmt, countries, ranges)
    result = await session.scalars(stmt.limit(limit).offset(offset))
    return list(result)


async def count_companies(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Company)) or 0)


async def get_company_by_domain(session: AsyncSession, domain: str) -> Company | None:
    return await session.scalar(select(Company).where(Company.domain == domain))


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
        stmt = _filtered(select(Company).where(Company.id.in_(wanted[start : start + _IN_CHUNK])), countries, ranges)
        for company in await session.scalars(stmt):
            found[company.id] = company
    return [found[i] for i in wanted if i in found]


def to_record(company: Company) -> CompanyRecord:
    """A stored row back in write-model form (to merge new data into it)."""
    return CompanyRecord(
        domain=company.domain,
        name=company.name,
        website=company.website,
        description=company.description,
        full_description=company.full_description,
        country=company.country,
        state=company.state,
        city=company.city,
        industries=tuple(company.industries or ()),
        tags=tuple(company.tags or ()),
        products=company.products,
        founded_year=company.founded_year,
        employees=company.employees,
        employee_count=company.employee_count,
        revenue=company.revenue,
        wikipedia_url=company.wikipedia_url,
        linkedin_url=company.linkedin_url,
        status=company.status,
        origin=company.origin,
    )
