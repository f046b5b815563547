"""Token expiry and revocation in the accounts service, and the auth cache's respect for expiry."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from firmscout.errors import InvalidField, NotFound
from firmscout.tasks import accounts
from firmscout.tasks.runtime import Runtime


class TestCreateWithExpiry:
    async def test_an_expiry_in_the_past_is_refused(self, runtime: Runtime) -> None:
        with pytest.raises(InvalidField, match="future"):
            await accounts.create_token(runtime.sessions, email="ana@acme.com", org_name=None,
                                        expires_at=datetime.now(UTC) - timedelta(seconds=1))
        assert await accounts.list_tokens(runtime.sessions) == []


class TestRevoke:
    async def test_an_unknown_id_is_not_found(self, runtime: Runtime) -> None:
        with pytest.raises(NotFound, match="token list"):
            await accounts.revoke_token(runtime.sessions, "0" * 12)

    async def test_a_longer_prefix_of_the_hash_works_too(self, runtime: Runtime) -> None:
        token = await accounts.create_token(runtime.sessions, email="ana@acme.com", org_name=None)
        done = await accounts.revoke_token(runtime.sessions, accounts.hash_token(token)[:20].upper())
        assert done.token.id == accounts.hash_token(token)[:12] and not done.already
        assert (await accounts.revoke_token(runtime.sessions, done.token.id)).already


class TestCacheAndExpiry:
    def test_an_entry_ends_when_its_token_expires(self) -> None:
        caller = accounts.Caller("u", "e@x.com", None, None, None, None, 0,
                                 token_expires_at=datetime.now(UTC) + timedelta(seconds=0.2))
        cache = accounts.CallerCache(ttl_s=30)
        cache.put("digest", caller)
        assert cache.get("digest") == caller
        time.sleep(0.3)
        assert cache.get("digest") is None

    def test_an_entry_for_a_token_without_expiry_lasts_the_ttl(self) -> None:
        cache = accounts.CallerCache(ttl_s=30)
        cache.put("digest", accounts.Caller("u", "e@x.com", None, None, None, None, 0))
        assert cache.get("digest") is not None
