"""pages fetched from the web per task, and their bytes

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("discovery_task") as batch:
        batch.add_column(sa.Column("pages_fetched", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("web_bytes", sa.BigInteger(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("discovery_task") as batch:
        batch.drop_column("web_bytes")
        batch.drop_column("pages_fetched")
