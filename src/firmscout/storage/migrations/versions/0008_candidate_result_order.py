"""results are ordered by relevance, then discovery position, then domain

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

Ties in relevance used to fall to the random candidate id, so equal results came back in a different order
on every run of the same query.
"""
from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_candidate_task_visible_rank", table_name="candidate")
    op.create_index("ix_candidate_task_visible_rank", "candidate",
                    ["task_id", "is_high_fit", "relevance", "position", "domain"])


def downgrade() -> None:
    op.drop_index("ix_candidate_task_visible_rank", table_name="candidate")
    op.create_index("ix_candidate_task_visible_rank", "candidate",
                    ["task_id", "is_high_fit", "relevance", "created_at", "id"])
