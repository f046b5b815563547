"""Ranked company ids of recent searches, so paging through one search ranks its matches once.

A broad search over a large database matches tens of thousands of rows, and ranking them (bm25 / ts_rank)
is the whole cost of a page; with this cache a page past the first is a slice of ids, not a new ranking.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

# Ids ranked per query: the pipeline's default bound on candidates per task, so one ranking serves a task.
WINDOW = 2000
TTL_S = 60.0
SIZE = 64


@dataclass(frozen=True)
class _Entry:
    ids: list[int]
    complete: bool  # every match is in `ids`
    at: float


class RankedIds:
    """An LRU of search key → best-first ids, each entry trusted for `ttl_s` (writes elsewhere may age it).

    One per source instance, not per process: a cache shared by unrelated databases would need their
    identity in every key.
    """

    def __init__(self, *, window: int = WINDOW, ttl_s: float = TTL_S, size: int = SIZE) -> None:
        self.window = window
        self._ttl_s = ttl_s
        self._size = size
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()

    def get(self, key: Hashable, needed: int) -> list[int] | None:
        """The cached ids if they cover the first `needed` ranks (or are all there is), else None."""
        entry = self._entries.get(key)
        if entry is None or time.monotonic() - entry.at > self._ttl_s:
            return None
        if len(entry.ids) < needed and not entry.complete:
            return None
        self._entries.move_to_end(key)
        return entry.ids

    def put(self, key: Hashable, ids: list[int], *, asked: int) -> None:
        self._entries[key] = _Entry(ids, complete=len(ids) < asked, at=time.monotonic())
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()
