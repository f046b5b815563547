"""candidate JSON columns compressed with lz4 instead of pglz on PostgreSQL

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29

A candidate row carries its company profile and the source's hit as JSON (about 2.8 kB of text), past
PostgreSQL's 2 kB TOAST threshold, so every inserted row was compressed with pglz. Inserting one discovery
page of 100 candidates took 8.2 ms of backend CPU with pglz and 5.3 ms with lz4 (median of 15, same rows);
the candidate insert was the largest share of PostgreSQL CPU per task in `bench.scaling`. lz4 also
decompresses faster when the next batch and the results are read. Only values written from now on use
it; existing rows stay readable as they are.

Skipped where the server was built without lz4 (the method is missing from `default_toast_compression`'s
allowed values, or the setting itself before PostgreSQL 14) and on SQLite.
"""
from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_COLUMNS = ("hit", "profile", "scores")


def _lz4_available() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    allowed = bind.execute(
        text("SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'")
    ).scalar_one_or_none()
    return allowed is not None and "lz4" in allowed


def _set_compression(method: str) -> None:
    clauses = ", ".join(f"ALTER COLUMN {column} SET COMPRESSION {method}" for column in _COLUMNS)
    op.execute(f"ALTER TABLE candidate {clauses}")


def upgrade() -> None:
    if _lz4_available():
        _set_compression("lz4")


def downgrade() -> None:
    if _lz4_available():
        _set_compression("pglz")
