"""`token create|list|revoke`: API tokens, shown once, listed by an id that is a prefix of their hash."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.console import Console
from rich.table import Table

from firmscout.config import Settings
from firmscout.tasks import accounts
from firmscout.tasks.runtime import open_runtime


async def create_token(settings: Settings, *, email: str, org: str | None, expires_in_days: int | None = None) -> str:
    expires_at = datetime.now(UTC) + timedelta(days=expires_in_days) if expires_in_days is not None else None
    async with open_runtime(settings) as runtime:
        return await accounts.create_token(runtime.sessions, email=email, org_name=org, expires_at=expires_at)


async def list_tokens(settings: Settings, *, email: str | None) -> list[accounts.TokenInfo]:
    async with open_runtime(settings) as runtime:
        return await accounts.list_tokens(runtime.sessions, email=email)


async def revoke_token(settings: Settings, token_id: str) -> accounts.Revocation:
    async with open_runtime(settings) as runtime:
        return await accounts.revoke_token(runtime.sessions, token_id)


def token_json(token: accounts.TokenInfo) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(token).items()}


def _day(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value is not None else "—"


def print_tokens(tokens: list[accounts.TokenInfo]) -> None:
    """A table that fits 80 columns: days only (--json has the full times), email and organization folded."""
    out = Console(soft_wrap=True)
    if not tokens:
        out.print("No tokens. Create one with `firmscout token create --email E`.", highlight=False, markup=False)
        return
    table = Table(title="API tokens (UTC)")
    # The id is what `token revoke` takes: never cut short, whatever the terminal's width.
    table.add_column("id", no_wrap=True, min_width=accounts.TOKEN_ID_CHARS)
    table.add_column("email", overflow="fold")
    table.add_column("organization", overflow="fold")
    for column in ("created", "expires", "revoked"):
        table.add_column(column, no_wrap=True)
    for t in tokens:
        expires = _day(t.expires_at) + (" (expired)" if t.status == "expired" else "")
        table.add_row(t.id, t.email, t.organization or "—", _day(t.created_at), expires, _day(t.revoked_at))
    out.print(table)
