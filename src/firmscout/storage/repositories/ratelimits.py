"""Token buckets in the database: one budget per key across every API process and machine."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from firmscout.storage.tables import RateLimitBucket

_bucket = cast(Table, RateLimitBucket.__table__)


def _refilled(dialect: str, now: float, per_second: float, burst: float) -> Any:
    """The bucket's tokens at `now`, in SQL. A clock behind the stored one (another machine) adds nothing."""
    least, greatest = (func.least, func.greatest) if dialect == "postgresql" else (func.min, func.max)
    elapsed = greatest(now - _bucket.c.refilled_at, 0.0)
    return least(burst, _bucket.c.tokens + elapsed * per_second)


async def take(session: AsyncSession, key: str, *, now: float, per_second: float, burst: int) -> float:
    """Spend one token of `key`'s bucket in the caller's transaction.

    Returns 0 when spent, else the seconds until a token is due (and nothing is written). One upsert
    decides: the row lock (PostgreSQL) or write lock (SQLite) it takes orders concurrent creates of one user,
    so two API processes can never both spend the last token.
    """
    dialect = session.get_bind().dialect.name
    refilled = _refilled(dialect, now, per_second, float(burst))
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = (
        insert(_bucket)
        .values(key=key, tokens=float(burst) - 1, refilled_at=now)
        .on_conflict_do_update(
            index_elements=[_bucket.c.key],
            set_={"tokens": refilled - 1, "refilled_at": now},
            where=refilled >= 1,
        )
        .returning(_bucket.c.tokens)
    )
    if (await session.execute(stmt)).first() is not None:
        return 0.0
    tokens = float(await session.scalar(select(refilled).where(_bucket.c.key == key)) or 0.0)
    return max((1 - tokens) / per_second, 0.0)
