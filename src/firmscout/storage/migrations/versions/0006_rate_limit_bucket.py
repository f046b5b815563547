"""token buckets for the create rate limit, shared by all API processes

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29

The limit lived in each API process's memory, so `serve --workers N` (or N machines) gave a user N times
the configured rate. One row per user, updated in the create's own transaction, makes it one budget.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_bucket",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("tokens", sa.Double(), nullable=False),
        sa.Column("refilled_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_limit_bucket")),
    )


def downgrade() -> None:
    op.drop_table("rate_limit_bucket")
