"""Accounts: organizations, users, API tokens, the web app's sign-ins and authentication."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from firmscout.errors import InvalidField, NotFound, Unauthorized
from firmscout.storage.db import read_only, unit_of_work
from firmscout.storage.repositories import accounts as account_repo
from firmscout.storage.tables import ApiToken, Organization, UserAccount

TOKEN_PREFIX = "fs_"
LOCAL_EMAIL = "local@firmscout.localhost"
LOCAL_ORG = "local"
# Hex characters of a token's hash that `token list` shows as its id: 48 bits, unique in any real install.
TOKEN_ID_CHARS = 12


@dataclass(frozen=True)
class Caller:
    user_id: str
    email: str
    organization_id: str | None
    organization_name: str | None
    organization_slug: str | None
    organization_is_active: bool | None
    available_credits: int
    # When the token used expires (None: never); a cache must not trust the caller past it.
    token_expires_at: datetime | None = None


@dataclass(frozen=True)
class TokenInfo:
    """A token as `token list` shows it: never the secret, only a prefix of its hash as its id."""

    id: str
    email: str
    organization: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    status: str  # "active", "expired" or "revoked"


@dataclass(frozen=True)
class Revocation:
    token: TokenInfo
    already: bool  # it had been revoked before this call, which changed nothing


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _utc(value: datetime) -> datetime:
    # SQLite hands timestamps back without their zone; every one we store is UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _status(token: ApiToken, now: datetime) -> str:
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and _utc(token.expires_at) <= now:
        return "expired"
    return "active"


def _slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "org"


class CallerCache:
    """Recently authenticated tokens (by hash) → Caller, for `ttl_s` seconds.

    Polling clients send the same token many times a second; without this every request would cost an
    extra database round trip. Only successful lookups are cached, so a new token works at once; a
    revoked or deleted token keeps working for at most `ttl_s` in each API process. An entry never
    outlives its token's expiry, so an expired token is refused even while cached.

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
        ttl_s = self._ttl_s
        if caller.token_expires_at is not None:
            ttl_s = min(ttl_s, (caller.token_expires_at - datetime.now(UTC)).total_seconds())
        self._entries[digest] = (time.monotonic() + ttl_s, caller)

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
    token, user, org = found
    # Same error as an unknown token: a caller learns nothing about which tokens exist.
    if _status(token, datetime.now(UTC)) != "active":
        raise Unauthorized()
    return _caller(token, user, org)


def _caller(token: ApiToken, user: UserAccount, org: Organization | None) -> Caller:
    return Caller(
        user_id=user.id,
        email=user.email,
        organization_id=org.id if org else None,
        organization_name=org.name if org else None,
        organization_slug=org.slug if org else None,
        organization_is_active=org.is_active if org else None,
        available_credits=user.available_credits,
        token_expires_at=_utc(token.expires_at) if token.expires_at is not None else None,
    )


@dataclass(frozen=True)
class SignIn:
    """A browser's session in the web app: `secret` goes in its cookie, `csrf_token` in every form it posts."""

    secret: str
    csrf_token: str
    caller: Caller


async def sign_in(sessions: async_sessionmaker[AsyncSession], token: str, lifetime: timedelta) -> SignIn:
    """Exchange an API token for a web session of at most `lifetime` (never past the token's own expiry)."""
    digest = hash_token(token.strip())
    now = datetime.now(UTC)
    async with unit_of_work(sessions) as session:
        found = await account_repo.find_token_owner(session, digest)
        if found is None or not hmac.compare_digest(found[0].token_hash, digest) or _status(found[0], now) != "active":
            raise Unauthorized()
        api_token = found[0]
        expires_at = now + lifetime
        if api_token.expires_at is not None:
            expires_at = min(expires_at, _utc(api_token.expires_at))
        secret, csrf_token = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        # Sign-ins past their time are only ever refused; each new one sweeps them away.
        await account_repo.delete_expired_web_sessions(session, now)
        await account_repo.add_web_session(
            session, id_hash=hash_token(secret), token_id=api_token.id, csrf_token=csrf_token, expires_at=expires_at
        )
        return SignIn(secret, csrf_token, _caller(*found))


async def session_caller(sessions: async_sessionmaker[AsyncSession], secret: str) -> SignIn:
    """The web session whose cookie carries `secret`; Unauthorized once it, or its token, expired or was revoked."""
    now = datetime.now(UTC)
    async with read_only(sessions) as session:
        found = await account_repo.find_web_session(session, hash_token(secret))
    if found is None:
        raise Unauthorized()
    web, token, user, org = found
    if _utc(web.expires_at) <= now or _status(token, now) != "active":
        raise Unauthorized()
    return SignIn(secret, web.csrf_token, _caller(token, user, org))


async def sign_out(sessions: async_sessionmaker[AsyncSession], secret: str) -> None:
    async with unit_of_work(sessions) as session:
        await account_repo.delete_web_session(session, hash_token(secret))


async def _issue_token(
    session: AsyncSession, *, email: str, org_name: str | None, expires_at: datetime | None = None
) -> str:
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
    await account_repo.add_token(
        session, user_id=user.id, token_hash=hash_token(token), prefix=token[:8], expires_at=expires_at
    )
    return token


async def create_token(
    sessions: async_sessionmaker[AsyncSession], *, email: str, org_name: str | None,
    expires_at: datetime | None = None,
) -> str:
    """Create the user (and organization) if needed and return a new token; only its hash is stored.

    `expires_at` (timezone-aware, in the future): from then on the token is refused; None: it never expires.
    """
    email = email.strip().lower()
    if "@" not in email:
        raise InvalidField(("email",), f"{email!r} is not an email address")
    if expires_at is not None and _utc(expires_at) <= datetime.now(UTC):
        raise InvalidField(("expires_at",), "a token's expiry must be in the future")
    async with unit_of_work(sessions) as session:
        return await _issue_token(session, email=email, org_name=org_name, expires_at=expires_at)


def _token_info(row: account_repo.TokenRow, now: datetime) -> TokenInfo:
    token, user, org = row
    return TokenInfo(
        id=token.token_hash[:TOKEN_ID_CHARS],
        email=user.email,
        organization=org.name if org else None,
        created_at=_utc(token.created_at),
        expires_at=_utc(token.expires_at) if token.expires_at is not None else None,
        revoked_at=_utc(token.revoked_at) if token.revoked_at is not None else None,
        status=_status(token, now),
    )


async def list_tokens(sessions: async_sessionmaker[AsyncSession], *, email: str | None = None) -> list[TokenInfo]:
    """Every token (or one user's), oldest first."""
    async with read_only(sessions) as session:
        rows = await account_repo.list_tokens(session, email=email.strip().lower() if email else None)
    now = datetime.now(UTC)
    return [_token_info(row, now) for row in rows]


async def revoke_token(sessions: async_sessionmaker[AsyncSession], token_id: str) -> Revocation:
    """Revoke the token whose id (as `token list` shows it, or a longer prefix of its hash) is `token_id`.

    API processes that checked the token recently keep trusting it for up to FIRMSCOUT_API__AUTH_CACHE_S.
    """
    wanted = token_id.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{8,64}", wanted):
        raise InvalidField(("id",), f"{token_id!r} is not a token id: `firmscout token list` shows the ids")
    async with unit_of_work(sessions) as session:
        rows = await account_repo.find_tokens_by_hash_prefix(session, wanted)
        if not rows:
            raise NotFound(f"No token has the id {wanted}: `firmscout token list` shows the ids.")
        if len(rows) > 1:
            raise InvalidField(("id",), f"{wanted} matches several tokens: give more of the id")
        token = rows[0][0]
        already = token.revoked_at is not None
        if not already:
            await account_repo.revoke_token(session, token, datetime.now(UTC))
        return Revocation(_token_info(rows[0], datetime.now(UTC)), already)


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
