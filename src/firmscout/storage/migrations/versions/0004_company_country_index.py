"""index on company.country for the local search's country filter

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29

`search_companies` filters full-text matches by `country IN (…)`. On PostgreSQL at 1M companies a common
word ("companies", "bank") matches hundreds of thousands of rows, and without this index every match was
ranked before the country filter applied; with it the planner starts from the country's rows.
SQLite gets no index: FTS5 drives its search (a MATCH is always the outer loop), so the index would
only cost import time there (see docs/benchmarks.md, "Scale").
"""
from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.create_index("ix_company_country", "company", ["country"])


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_company_country", table_name="company")
