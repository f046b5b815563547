"""The web fetcher's page cache: one row per URL asked, fresh until its time-to-live runs out."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from firmscout.storage import dialects
from firmscout.storage.tables import WebHost, WebPage

_TABLE = cast(Table, WebPage.__table__)
_COLUMNS = [c.name for c in _TABLE.columns if c.name != "url"]


async def fresh_page(session: AsyncSession, url: str, *, since: datetime) -> WebPage | None:
    """The cached page for `url` if it was fetched at or after `since`."""
    return await session.scalar(select(WebPage).where(WebPage.url == url, WebPage.fetched_at >= since))


async def save_page(session: AsyncSession, url: str, **values: Any) -> None:
    """Store (or replace) what fetching `url` gave."""
    stmt = dialects.of(session).insert(_TABLE).values(url=url, **values)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=[_TABLE.c.url], set_={name: stmt.excluded[name] for name in _COLUMNS if name in values}
    ))


async def take_host_slot(session: AsyncSession, origin: str, *, now: float, delay: float) -> float:
    """Book the next slot to ask `origin` for a page, `delay` after the last one booked by any process; returns
    when the slot starts (seconds since the epoch). One upsert, so concurrent bookers queue on the row."""
    dialect = dialects.of(session)
    host = cast(Table, WebHost.__table__)
    stmt = dialect.insert(host).values(origin=origin, next_at=now + delay)
    stmt = stmt.on_conflict_do_update(
        index_elements=[host.c.origin], set_={"next_at": dialect.greatest(host.c.next_at, now) + delay}
    ).returning(host.c.next_at)
    booked = float((await session.execute(stmt)).scalar_one())
    return booked - delay
