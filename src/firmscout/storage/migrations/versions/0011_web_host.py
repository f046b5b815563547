"""one pace per web host across worker processes

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_host",
        sa.Column("origin", sa.String(length=300), nullable=False),
        sa.Column("next_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("origin", name=op.f("pk_web_host")),
    )


def downgrade() -> None:
    op.drop_table("web_host")
