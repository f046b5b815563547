"""Per-user token buckets for task creation (pure; one set per API process)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from firmscout.errors import RateLimited


@dataclass
class _Bucket:
    tokens: float
    updated: float


class CreateRateLimiter:
    def __init__(self, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key: str) -> None:
        """Spend one creation for `key`, or raise RateLimited with the seconds until one is available."""
        now = self._clock()
        bucket = self._buckets.setdefault(key, _Bucket(self._burst, now))
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.updated) * self._rate)
        bucket.updated = now
        if bucket.tokens < 1:
            raise RateLimited((1 - bucket.tokens) / self._rate)
        bucket.tokens -= 1
