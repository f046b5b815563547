"""Company vectors: which companies need (re-)embedding, upserts, and the rows an in-process index loads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from firmscout.storage import dialects
from firmscout.storage.tables import Company, CompanyEmbedding, utcnow

_TABLE: Table = CompanyEmbedding.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class EmbeddingSubject:
    """A company's embeddable fields and the hash of the text its stored vector was made from (None: none)."""

    id: int
    name: str
    industries: tuple[str, ...]
    tags: tuple[str, ...]
    products: str | None
    description: str | None
    full_description: str | None
    stored_hash: str | None


@dataclass(frozen=True)
class IndexRow:
    company_id: int
    domain: str
    vector: bytes
    country: str | None
    founded_year: int | None
    employees: int | None
    status: str | None


async def subjects_after(session: AsyncSession, model: str, *, after_id: int, limit: int) -> list[EmbeddingSubject]:
    """The next `limit` companies by id after `after_id`, each with the text hash stored for `model`."""
    stmt = (
        select(
            Company.id, Company.name, Company.industries, Company.tags, Company.products, Company.description,
            Company.full_description, CompanyEmbedding.text_hash,
        )
        .outerjoin(CompanyEmbedding, and_(CompanyEmbedding.company_id == Company.id, CompanyEmbedding.model == model))
        .where(Company.id > after_id)
        .order_by(Company.id)
        .limit(limit)
    )
    return [
        EmbeddingSubject(row[0], row[1], tuple(row[2] or ()), tuple(row[3] or ()), row[4], row[5], row[6], row[7])
        for row in (await session.execute(stmt)).all()
    ]


async def upsert_vectors(session: AsyncSession, model: str, rows: Sequence[tuple[int, str, int, bytes]]) -> None:
    """Store (company_id, text_hash, dim, vector) rows for `model`, replacing older vectors."""
    if not rows:
        return
    stmt = dialects.of(session).insert(_TABLE)
    stmt = stmt.on_conflict_do_update(
        index_elements=[_TABLE.c.company_id, _TABLE.c.model],
        set_={name: stmt.excluded[name] for name in ("text_hash", "dim", "vector", "updated_at")},
    )
    now = utcnow()
    values: list[dict[str, Any]] = [
        {"company_id": cid, "model": model, "text_hash": h, "dim": dim, "vector": vec, "updated_at": now}
        for cid, h, dim, vec in rows
    ]
    await session.execute(stmt, values)
    await session.flush()


async def index_rows(session: AsyncSession, model: str) -> list[IndexRow]:
    """Every stored vector of `model` with the company fields a dense search filters on, by company id."""
    stmt = (
        select(
            CompanyEmbedding.company_id, Company.domain, CompanyEmbedding.vector, Company.country, Company.founded_year,
            Company.employees, Company.status,
        )
        .join(Company, Company.id == CompanyEmbedding.company_id)
        .where(CompanyEmbedding.model == model)
        .order_by(CompanyEmbedding.company_id)
    )
    return [IndexRow(*row) for row in (await session.execute(stmt)).all()]


async def fingerprint(session: AsyncSession, model: str) -> tuple[Any, ...]:
    """Changes whenever a vector of `model` or any company is written or deleted: an index built for an
    older fingerprint is stale. Two aggregate scans; the index checks it at most every few seconds."""
    vectors = (
        await session.execute(
            select(func.count(), func.max(CompanyEmbedding.updated_at)).where(CompanyEmbedding.model == model)
        )
    ).one()
    companies = (await session.execute(select(func.count(), func.max(Company.updated_at)))).one()
    return (*vectors, *companies)


async def count_vectors(session: AsyncSession, model: str) -> int:
    return int(
        await session.scalar(select(func.count()).select_from(_TABLE).where(CompanyEmbedding.model == model)) or 0
    )
