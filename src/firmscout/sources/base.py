"""The data-source contract."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from firmscout.entities import SearchRequest, SourceHit
from firmscout.errors import SourceError

__all__ = ["Source", "SourceError", "SourcePage"]


@dataclass(frozen=True)
class SourcePage:
    hits: tuple[SourceHit, ...]
    # Opaque position to pass back for the next page; None when the source has nothing more for this request.
    next_cursor: str | None
    # Requests this page cost at a web search provider (the task's `usage.search_requests`).
    search_requests: int = 0


class Source(Protocol):
    """A place candidates come from.

    Error contract: transport, quota and protocol failures raise `SourceError`; an empty page with
    `next_cursor=None` means the source has run dry for this request. `search` must be deterministic
    for a given (request, cursor), so a task resumed after a crash continues where it stopped.
    """

    name: str

    async def search(self, request: SearchRequest, cursor: str | None, limit: int) -> SourcePage: ...
