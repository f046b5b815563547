"""API tokens can expire and be revoked

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-10

`expires_at` is set by `firmscout token create --expires-in DAYS`, `revoked_at` by `firmscout token revoke`;
both null for the tokens that exist already, which therefore keep working as before.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_token") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_token") as batch:
        batch.drop_column("revoked_at")
        batch.drop_column("expires_at")
