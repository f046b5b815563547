"""A task can carry a webhook

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02

`webhook_url` and `webhook_secret` come from the create's optional `webhook`; `webhook_status` (delivered, or
failed: why) and `webhook_attempts` record its delivery. All null (attempts 0) for the tasks that exist already,
which therefore send nothing.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("discovery_task") as batch:
        batch.add_column(sa.Column("webhook_url", sa.String(2048), nullable=True))
        batch.add_column(sa.Column("webhook_secret", sa.String(256), nullable=True))
        batch.add_column(sa.Column("webhook_status", sa.String(512), nullable=True))
        batch.add_column(sa.Column("webhook_attempts", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("discovery_task") as batch:
        batch.drop_column("webhook_attempts")
        batch.drop_column("webhook_status")
        batch.drop_column("webhook_secret")
        batch.drop_column("webhook_url")
