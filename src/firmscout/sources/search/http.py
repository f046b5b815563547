"""One HTTP client per search provider: its pace, its rate-limit headers, its retries and its errors.

Provider APIs are called at the address the operator configured (a self-hosted SearXNG on localhost is
normal), so they do not go through the page fetcher's guard; the pages their results name do.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from firmscout.sources.search.base import ProviderError

# Statuses worth one more try after a pause: the provider or a proxy in front of it is briefly unwell.
_RETRY_STATUSES = frozenset({500, 502, 503, 504})
_ATTEMPTS = 3
_BACKOFF_S = 0.5
# A reply body quoted in an error is cut here.
_QUOTE_CHARS = 300

# (status, body) → a sentence for the user, or None for the generic one.
Explain = Callable[[int, str], str | None]


class Pace:
    """Requests to one provider: at least `interval_s` apart, and none before a rate-limit window reopens."""

    def __init__(self, interval_s: float) -> None:
        self._interval_s = interval_s
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            delay = self._next - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self._next = time.monotonic() + self._interval_s

    def hold(self, seconds: float) -> None:
        self._next = max(self._next, time.monotonic() + seconds)


def retry_after_s(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from `Retry-After` (seconds or an HTTP date), else from an exhausted `X-RateLimit-*`
    window (Brave sends comma lists, one entry per window: `Remaining: 0, 14000`, `Reset: 1, 1419704`)."""
    raw = headers.get("retry-after")
    if raw is not None:
        raw = raw.strip()
        if raw.isdigit():
            return float(raw)
        try:
            when = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - time.time())
    remaining, reset = headers.get("x-ratelimit-remaining"), headers.get("x-ratelimit-reset")
    if remaining is None or reset is None:
        return None
    waits = [
        float(r.strip()) for left, r in zip(remaining.split(","), reset.split(","), strict=False)
        if left.strip() == "0" and r.strip().replace(".", "", 1).isdigit()
    ]
    return max(waits) if waits else None


class ProviderClient:
    def __init__(
        self,
        provider: str,
        *,
        timeout_s: float,
        interval_s: float,
        max_retry_after_s: float,
        explain: Explain | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.provider = provider
        self._pace = Pace(interval_s)
        self._max_wait_s = max_retry_after_s
        self._explain = explain
        # No redirects: an API that moved is a configuration to fix, not a hop to follow with the key attached.
        self._client = httpx.AsyncClient(timeout=timeout_s, transport=transport, follow_redirects=False)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def request_json(
        self, method: str, url: str, *, headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None, body: Any = None,
    ) -> Any:
        """The decoded JSON reply; ProviderError for anything else, transient when a later try may work."""
        for attempt in range(1, _ATTEMPTS + 1):
            await self._pace.wait()
            try:
                reply = await self._client.request(method, url, headers=headers, params=params, json=body)
            except httpx.TimeoutException:
                if attempt < _ATTEMPTS:
                    continue
                raise self._error("did not answer in time", transient=True) from None
            except httpx.TransportError as exc:
                if attempt < _ATTEMPTS:
                    await asyncio.sleep(_BACKOFF_S * attempt)
                    continue
                raise self._error(f"could not be reached ({type(exc).__name__}: {exc})", transient=True) from None
            wait = retry_after_s(reply.headers)
            if reply.status_code == 429:
                # No word on when: back off, doubling, as the providers' docs ask.
                pause = wait if wait is not None else _BACKOFF_S * 2**attempt
                if pause <= self._max_wait_s and attempt < _ATTEMPTS:
                    self._pace.hold(pause)
                    continue
                after = f"; it asks to retry after {wait:.0f} s" if wait is not None else ""
                raise self._error(f"rate-limited the search (HTTP 429{after})", transient=True)
            if wait is not None:
                self._pace.hold(min(wait, self._max_wait_s))  # the window is used up: the next call waits
            if reply.status_code in _RETRY_STATUSES:
                if attempt < _ATTEMPTS:
                    await asyncio.sleep(_BACKOFF_S * attempt)
                    continue
                raise self._error(f"failed (HTTP {reply.status_code}): {_quote(reply.text)}", transient=True)
            if reply.status_code >= 400:
                hint = self._explain(reply.status_code, reply.text) if self._explain is not None else None
                raise self._error(hint or f"refused the search (HTTP {reply.status_code}): {_quote(reply.text)}")
            try:
                return reply.json()
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise self._error(f"answered with malformed JSON: {_quote(reply.text)}", transient=True) from None
        raise AssertionError("unreachable: every attempt returns or raises")

    def _error(self, reason: str, *, transient: bool = False) -> ProviderError:
        return ProviderError(f"Search provider {self.provider!r} {reason}", transient=transient)


def _quote(text: str) -> str:
    flat = " ".join(text.split())
    return (flat[:_QUOTE_CHARS] + "…") if len(flat) > _QUOTE_CHARS else (flat or "(empty body)")


def cut_query(query: str, limit: int | None) -> str:
    """`query` within `limit` characters, cut at a word: providers refuse longer ones (Tavily with a 400)."""
    if limit is None or len(query) <= limit:
        return query
    cut = query[:limit]
    return cut.rsplit(" ", 1)[0] if " " in cut else cut


def items(data: Any, key: str) -> list[dict[str, Any]]:
    """The objects of the list `data[key]`; nothing when a reply lacks it or has another shape."""
    found = data.get(key) if isinstance(data, dict) else None
    return [item for item in found if isinstance(item, dict)] if isinstance(found, list) else []
