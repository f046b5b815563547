"""Token buckets in the database: one budget per key across every API process and machine."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Double, Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from firmscout.storage import dialects
from firmscout.storage.dialects import Dialect
from firmscout.storage.tables import RateLimitBucket

_bucket = cast(Table, RateLimitBucket.__table__)


def _refilled(dialect: Dialect) -> Any:
    """The bucket's tokens at :now, in SQL. A clock behind the stored one (another machine) adds nothing."""
    least, greatest = dialect.least, dialect.greatest
    elapsed = greatest(bindparam("now", type_=Double) - _bucket.c.refilled_at, 0.0)
    return least(bindparam("burst", type_=Double), _bucket.c.tokens + elapsed * bindparam("per_second", type_=Double))


def _statements(dialect: Dialect) -> tuple[Any, Any]:
    # Built once per dialect with bind parameters: building the upsert costs more than running it.
    if (built := _BUILT.get(dialect)) is not None:
        return built
    refilled = _refilled(dialect)
    spend = (
        dialect.insert(_bucket)
        .values(key=bindparam("key"), tokens=bindparam("burst", type_=Double) - 1, refilled_at=bindparam("now"))
        .on_conflict_do_update(
            index_elements=[_bucket.c.key],
            set_={"tokens": refilled - 1, "refilled_at": bindparam("now", type_=Double)},
            where=refilled >= 1,
        )
        .returning(_bucket.c.tokens)
    )
    left = select(refilled).where(_bucket.c.key == bindparam("key"))
    _BUILT[dialect] = spend, left
    return spend, left


_BUILT: dict[object, tuple[Any, Any]] = {}  # by dialect (one object each)


async def take(session: AsyncSession, key: str, *, now: float, per_second: float, burst: int) -> float:
    """Spend one token of `key`'s bucket in the caller's transaction.

    Returns 0 when spent, else the seconds until a token is due (and nothing is written). One upsert
    decides: the row lock (PostgreSQL) or write lock (SQLite) it takes orders concurrent creates of one user,
    so two API processes can never both spend the last token.
    """
    spend, left = _statements(dialects.of(session))
    params = {"key": key, "now": now, "per_second": per_second, "burst": float(burst)}
    if (await session.execute(spend, params)).first() is not None:
        return 0.0
    tokens = float(await session.scalar(left, params) or 0.0)
    return max((1 - tokens) / per_second, 0.0)
