"""Tokens: shown once, stored as a hash, and a short per-process cache of checked tokens."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event

from firmscout.errors import Unauthorized
from firmscout.tasks import accounts
from firmscout.tasks.runtime import Runtime


class TestAuthenticate:
    async def test_token_round_trip_and_cache(self, runtime: Runtime) -> None:
        token = await accounts.create_token(runtime.sessions, email="ana@acme.com", org_name="Acme")
        cache = accounts.CallerCache(ttl_s=30)
        caller = await accounts.authenticate(runtime.sessions, f"Bearer {token}", cache)
        assert caller.email == "ana@acme.com" and caller.organization_slug == "acme"
        assert cache.get(accounts.hash_token(token)) == caller

    async def test_failures_are_never_cached(self, runtime: Runtime) -> None:
        cache = accounts.CallerCache(ttl_s=30)
        with pytest.raises(Unauthorized):
            await accounts.authenticate(runtime.sessions, "Bearer fs_unknown", cache)
        assert cache.get(accounts.hash_token("fs_unknown")) is None

    def test_entries_expire(self) -> None:
        cache = accounts.CallerCache(ttl_s=0)
        caller = accounts.Caller("u", "e@x.com", None, None, None, None, 0)
        cache.put("digest", caller)
        assert cache.get("digest") is None


class TestConcurrentMisses:
    """Requests that miss the cache together (a fresh process, an expired entry) share one lookup."""

    @staticmethod
    def _count_token_lookups(runtime: Runtime) -> list[str]:
        seen: list[str] = []

        @event.listens_for(runtime.engine.sync_engine, "before_cursor_execute")
        def _lookup(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
            if "api_token" in statement:
                seen.append(statement)

        return seen

    async def test_twenty_requests_at_once_read_the_token_once(self, runtime: Runtime) -> None:
        token = await accounts.create_token(runtime.sessions, email="ana@acme.com", org_name="Acme")
        cache = accounts.CallerCache(ttl_s=30)
        lookups = self._count_token_lookups(runtime)
        callers = await asyncio.gather(
            *(accounts.authenticate(runtime.sessions, f"Bearer {token}", cache) for _ in range(20)))
        assert {c.email for c in callers} == {"ana@acme.com"}
        assert len(lookups) == 1
        assert cache.get(accounts.hash_token(token)) == callers[0]

    async def test_a_failed_lookup_fails_every_waiter_and_is_not_kept(self, runtime: Runtime) -> None:
        cache = accounts.CallerCache(ttl_s=30)
        lookups = self._count_token_lookups(runtime)
        outcomes = await asyncio.gather(
            *(accounts.authenticate(runtime.sessions, "Bearer fs_unknown", cache) for _ in range(5)),
            return_exceptions=True)
        assert all(isinstance(o, Unauthorized) for o in outcomes)
        assert len(lookups) == 1
        with pytest.raises(Unauthorized):  # asked again, the token is looked up again
            await accounts.authenticate(runtime.sessions, "Bearer fs_unknown", cache)
        assert len(lookups) == 2

    async def test_a_waiter_that_gives_up_does_not_cancel_the_others(self, runtime: Runtime) -> None:
        token = await accounts.create_token(runtime.sessions, email="ana@acme.com", org_name="Acme")
        cache = accounts.CallerCache(ttl_s=30)
        first = asyncio.create_task(accounts.authenticate(runtime.sessions, f"Bearer {token}", cache))
        second = asyncio.create_task(accounts.authenticate(runtime.sessions, f"Bearer {token}", cache))
        await asyncio.sleep(0)  # both are waiting on the one lookup
        first.cancel()
        assert (await asyncio.wait_for(second, timeout=10)).email == "ana@acme.com"
        with pytest.raises(asyncio.CancelledError):
            await first
