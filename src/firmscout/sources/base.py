"""The data-source contract."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from firmscout.entities import SearchRequest, SourceHit, TokenUsage
from firmscout.errors import SourceError

__all__ = ["Source", "SourceError", "SourcePage"]


@dataclass(frozen=True)
class SourcePage:
    hits: tuple[SourceHit, ...]
    # Opaque position to pass back for the next page; None when the source has nothing more for this request.
    next_cursor: str | None
    # Requests this page cost at a web search provider (the task's `usage.search_requests`).
    search_requests: int = 0
    # Pages this page cost fetching through the page reader (lists, profiles; cache hits are free) and their
    # bytes: the task's `usage.pages_fetched` and `bytes_fetched`, within its page budget.
    pages_fetched: int = 0
    bytes_fetched: int = 0
    usage: TokenUsage = field(default_factory=TokenUsage)  # LLM tokens this page cost, added to the task's usage
    # What the provider reported beside the results ("engine X did not answer"), shown as the task's warnings.
    notes: tuple[str, ...] = ()
    # Where to go instead of `next_cursor` when this page brought the task no new candidate (a web source's next
    # search: a search's later pages rank lower than the page that already repeated what was known); None: no skip.
    skip_cursor: str | None = None


class Source(Protocol):
    """A place candidates come from.

    Error contract: transport, quota and protocol failures raise `SourceError`; an empty page with
    `next_cursor=None` means the source has run dry for this request. `search` must be deterministic
    for a given (request, cursor), so a task resumed after a crash continues where it stopped.
    """

    name: str

    async def search(self, request: SearchRequest, cursor: str | None, limit: int) -> SourcePage: ...
