"""Tokens: shown once, stored as a hash, and a short per-process cache of checked tokens."""

from __future__ import annotations

import pytest

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
