"""why candidates were removed, and results ordered by evidence and prominence after relevance

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

Ties in relevance fell to the discovery position, which depends on the order sources and pages are
settled in, so two runs of one query could order equal results differently. Candidates now store two
tie-breakers computed when graded (pipeline/local/ranking.py), and the result order is relevance, evidence,
prominence (each descending), then domain: the same input gives the same order. Rows graded before this
migration have 0 for both, so their ties fall to the domain.

A candidate that does not become a result records the criteria that failed it (`removed_by`), and the task
their tally (`candidates_removed`, storage/removals.py).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("discovery_task") as batch:
        batch.add_column(sa.Column("candidates_removed", sa.JSON(), nullable=True))
    with op.batch_alter_table("candidate") as batch:
        batch.add_column(sa.Column("evidence", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("prominence", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("removed_by", sa.JSON(), nullable=True))
    op.drop_index("ix_candidate_task_visible_rank", table_name="candidate")
    # Each column in the direction the results are read, so a page is one forward index range on both
    # databases (relevance, evidence and prominence descending, then domain ascending).
    op.create_index("ix_candidate_task_visible_rank", "candidate", [
        "task_id", "is_high_fit", sa.text("relevance DESC"), sa.text("evidence DESC"), sa.text("prominence DESC"),
        "domain",
    ])


def downgrade() -> None:
    op.drop_index("ix_candidate_task_visible_rank", table_name="candidate")
    op.create_index("ix_candidate_task_visible_rank", "candidate",
                    ["task_id", "is_high_fit", "relevance", "position", "domain"])
    with op.batch_alter_table("candidate") as batch:
        batch.drop_column("removed_by")
        batch.drop_column("prominence")
        batch.drop_column("evidence")
    with op.batch_alter_table("discovery_task") as batch:
        batch.drop_column("candidates_removed")
