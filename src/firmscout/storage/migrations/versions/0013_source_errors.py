"""a source that failed for a task says why; tasks count their web search requests

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02

A web search provider that is down, out of credits or refusing the key no longer fails the task: the
source stops for that task with its error kept on its cursor, the task finishes with what the other sources
and the earlier pages found, and `stop_reason` is `source_failed` with the error in `error`. `search_requests` counts what the task
asked of the search provider (`usage.search_requests`), as `pages_fetched` counts web pages, and
`search_budget` caps it for one task (a create's `budget.search_requests`; null: the setting's).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("source_cursor") as batch:
        batch.add_column(sa.Column("error", sa.Text(), nullable=True))
    with op.batch_alter_table("discovery_task") as batch:
        batch.add_column(sa.Column("search_requests", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("search_budget", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("discovery_task") as batch:
        batch.drop_column("search_budget")
        batch.drop_column("search_requests")
    with op.batch_alter_table("source_cursor") as batch:
        batch.drop_column("error")
