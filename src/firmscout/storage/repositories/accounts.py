"""Organizations, users, API tokens and the web app's sign-ins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from firmscout.storage.tables import ApiToken, Organization, UserAccount, WebSession


async def get_org_by_slug(session: AsyncSession, slug: str) -> Organization | None:
    return await session.scalar(select(Organization).where(Organization.slug == slug))


async def create_org(session: AsyncSession, *, name: str, slug: str) -> Organization:
    org = Organization(name=name, slug=slug)
    session.add(org)
    await session.flush()
    return org


async def get_user_by_email(session: AsyncSession, email: str) -> UserAccount | None:
    return await session.scalar(select(UserAccount).where(UserAccount.email == email))


async def create_user(session: AsyncSession, *, email: str, organization_id: str | None) -> UserAccount:
    user = UserAccount(email=email, organization_id=organization_id)
    session.add(user)
    await session.flush()
    return user


async def count_users(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(UserAccount)) or 0)


async def add_token(
    session: AsyncSession, *, user_id: str, token_hash: str, prefix: str, expires_at: datetime | None = None
) -> ApiToken:
    token = ApiToken(user_id=user_id, token_hash=token_hash, prefix=prefix, expires_at=expires_at)
    session.add(token)
    await session.flush()
    return token


TokenRow = tuple[ApiToken, UserAccount, Organization | None]


def _with_owner() -> Select[ApiToken, UserAccount, Organization]:
    return (
        select(ApiToken, UserAccount, Organization)
        .join(UserAccount, UserAccount.id == ApiToken.user_id)
        .outerjoin(Organization, Organization.id == UserAccount.organization_id)
    )


async def find_token_owner(session: AsyncSession, token_hash: str) -> TokenRow | None:
    row = (await session.execute(_with_owner().where(ApiToken.token_hash == token_hash))).first()
    if row is None:
        return None
    return row[0], row[1], row[2]


async def list_tokens(session: AsyncSession, *, email: str | None = None) -> list[TokenRow]:
    query = _with_owner().order_by(ApiToken.created_at, ApiToken.id)
    if email is not None:
        query = query.where(UserAccount.email == email)
    return [(row[0], row[1], row[2]) for row in await session.execute(query)]


async def find_tokens_by_hash_prefix(session: AsyncSession, hash_prefix: str, *, limit: int = 2) -> list[TokenRow]:
    query = _with_owner().where(ApiToken.token_hash.startswith(hash_prefix, autoescape=True)).limit(limit)
    return [(row[0], row[1], row[2]) for row in await session.execute(query)]


async def revoke_token(session: AsyncSession, token: ApiToken, at: datetime) -> None:
    token.revoked_at = at
    await session.flush()


async def add_web_session(
    session: AsyncSession, *, id_hash: str, token_id: str, csrf_token: str, expires_at: datetime
) -> None:
    session.add(WebSession(id_hash=id_hash, token_id=token_id, csrf_token=csrf_token, expires_at=expires_at))
    await session.flush()


async def find_web_session(
    session: AsyncSession, id_hash: str
) -> tuple[WebSession, ApiToken, UserAccount, Organization | None] | None:
    """The sign-in, with its token and the token's owner; None when there is no such sign-in."""
    query = _with_owner().add_columns(WebSession).join(WebSession, WebSession.token_id == ApiToken.id)
    row = (await session.execute(query.where(WebSession.id_hash == id_hash))).first()
    if row is None:
        return None
    return row[3], row[0], row[1], row[2]


async def delete_web_session(session: AsyncSession, id_hash: str) -> None:
    await session.execute(delete(WebSession).where(WebSession.id_hash == id_hash))


async def delete_expired_web_sessions(session: AsyncSession, now: datetime) -> None:
    await session.execute(delete(WebSession).where(WebSession.expires_at <= now))
