"""Accounts: organizations, users, API tokens and authentication."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from firmscout.errors import InvalidField, Unauthorized
from firmscout.storage.db import read_only, unit_of_work
from firmscout.storage.repositories import accounts as account_repo

TOKEN_PREFIX = "fs_"
LOCAL_EMAIL = "local@firmscout.localhost"
LOCAL_ORG = "local"


@dataclass(frozen=True)
class Caller:
    user_id: str
    email: str
    organization_id: str | None
    organization_name: str | None
    organization_slug: str | None
    organization_is_active: bool | None
    available_credits: int


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "org"


class CallerCache:
    """Recently authenticated tokens (by hash) → Caller, for `ttl_s` seconds.

    Polling clients send the same token many times a second; without this every request would cost an
    extra database round trip. Only successful lookups are cached, so a new token works at once; a
    deleted token keeps working for at most `ttl_s` in each API process.

    Requests that miss together share one lookup (`once`): after a start, or when a busy token's entry
    expires, every connection of a client asks at the same moment, and separate lookups would queue for
    the database.
    """

    def __init__(self, ttl_s: float = 30.0, max_entries: int = 10_000) -> None:
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._entries: dict[str, tuple[float, Caller]] = {}
        self._lookups: dict[str, asyncio.Future[Caller]] = {}

    def get(self, digest: str) -> Caller | None:
        entry = self._entries.get(digest)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, digest: str, caller: Caller) -> None:
        if len(self._entries) >= self._max_entries:
            self._entries.clear()  # crude but bounded; the cache refills from the database
        self._entries[digest] = (time.monotonic() + self._ttl_s, caller)

    async def once(self, digest: str, lookup: Callable[[], Awaitable[Caller]]) -> Caller:
        """`lookup()`'s caller, cached; concurrent misses of one digest await the same lookup."""
        pending = self._lookups.get(digest)
        if pending is None:
            pending = asyncio.ensure_future(lookup())
            self._lookups[digest] = pending
            pending.add_done_callback(lambda done: self._settle(digest, done))
        # shield: a waiter that gives up (client gone) must not cancel the lookup the others wait for.
        return await asyncio.shield(pending)

    def _settle(self, digest: str, done: asyncio.Future[Caller]) -> None:
        del self._lookups[digest]
        if not done.cancelled() and done.exception() is None:
            self.put(digest, done.result())


async def authenticate(
    sessions: async_sessionmaker[AsyncSession], authorization: str | None, cache: CallerCache | None = None
) -> Caller:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized()
    token = token.strip()
    digest = hash_token(token)
    if cache is None:
        return await _find_caller(sessions, digest)
    if (cached := cache.get(digest)) is not None:
        return cached
    return await cache.once(digest, lambda: _find_caller(sessions, digest))


async def _find_caller(sessions: async_sessionmaker[AsyncSession], digest: str) -> Caller:
    async with read_only(sessions) as session:
        found = await account_repo.find_token_owner(session, digest)
    # The lookup is by hash, so timing reveals nothing about the token; compare_digest guards the last step.
    if found is None or not hmac.compare_digest(found[0].token_hash, digest):
        raise Unauthorized()
    _, user, org = found
    return Caller(
        user_id=user.id,
        email=user.email,
        organization_id=org.id if org else None,
        organization_name=org.name if org else None,
        organization_slug=org.slug if org else None,
        organization_is_active=org.is_active if org else None,
        available_credits=user.available_credits,
    )


async def _issue_token(session: AsyncSession, *, email: str, org_name: str | None) -> str:
    org_id: str | None = None
    if org_name:
        slug = _slugify(org_name)
        org = await account_repo.get_org_by_slug(session, slug)
        if org is None:
            org = await account_repo.create_org(session, name=org_name, slug=slug)
        org_id = org.id
    user = await account_repo.get_user_by_email(session, email)
    if user is None:
        user = await account_repo.create_user(session, email=email, organization_id=org_id)
    elif org_id is not None and user.organization_id not in (None, org_id):
        raise InvalidField(
            ("org",), f"user {email} already belongs to another organization; omit --org or use that one"
        )
    elif org_id is not None and user.organization_id is None:
        user.organization_id = org_id
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    await account_repo.add_token(session, user_id=user.id, token_hash=hash_token(token), prefix=token[:8])
    return token


async def create_token(sessions: async_sessionmaker[AsyncSession], *, email: str, org_name: str | None) -> str:
    """Create the user (and organization) if needed and return a new token; only its hash is stored."""
    email = email.strip().lower()
    if "@" not in email:
        raise InvalidField(("email",), f"{email!r} is not an email address")
    async with unit_of_work(sessions) as session:
        return await _issue_token(session, email=email, org_name=org_name)


async def bootstrap_local_token(sessions: async_sessionmaker[AsyncSession]) -> str | None:
    """On a fresh install, create a local user and return its token, so `serve` works with no set-up."""
    async with unit_of_work(sessions) as session:
        if await account_repo.count_users(session) > 0:
            return None
        return await _issue_token(session, email=LOCAL_EMAIL, org_name=LOCAL_ORG)


async def local_caller(sessions: async_sessionmaker[AsyncSession]) -> Caller:
    """The CLI's identity: the local user, created on first use (no token needed on this machine)."""
    async with unit_of_work(sessions) as session:
        user = await account_repo.get_user_by_email(session, LOCAL_EMAIL)
        if user is None:
            await _issue_token(session, email=LOCAL_EMAIL, org_name=LOCAL_ORG)
            user = await account_repo.get_user_by_email(session, LOCAL_EMAIL)
        assert user is not None
        org = await account_repo.get_org_by_slug(session, LOCAL_ORG)
    return Caller(
        user_id=user.id,
        email=user.email,
        organization_id=user.organization_id,
        organization_name=org.name if org else None,
        organization_slug=org.slug if org else None,
        organization_is_active=org.is_active if org else None,
        available_credits=user.available_credits,
    )
