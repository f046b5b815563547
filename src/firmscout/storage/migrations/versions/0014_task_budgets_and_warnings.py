"""tasks cap their pages and LLM tokens, count budgets from their latest resume, and keep provider warnings

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-09

`page_budget` and `token_budget` are a create's `budget.pages_fetched` and `budget.total_tokens` (null: the
settings'), beside 0013's `search_budget`. The `*_at_resume` columns hold the counters as a resume found
them: budgets count from there, so a task that stopped with `budget_exhausted` continues with the same
budgets again. `warnings` keeps what search providers reported beside their results (SearXNG's
unresponsive engines).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_COUNTED_FROM = ("search_requests_at_resume", "pages_fetched_at_resume", "tokens_at_resume")


def upgrade() -> None:
    with op.batch_alter_table("discovery_task") as batch:
        batch.add_column(sa.Column("page_budget", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("token_budget", sa.Integer(), nullable=True))
        for name in _COUNTED_FROM:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("warnings", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("discovery_task") as batch:
        batch.drop_column("warnings")
        for name in reversed(_COUNTED_FROM):
            batch.drop_column(name)
        batch.drop_column("token_budget")
        batch.drop_column("page_budget")
