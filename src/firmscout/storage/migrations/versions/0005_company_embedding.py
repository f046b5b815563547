"""Dense embedding vectors, one per company and model

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29

"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "company_embedding",
        sa.Column("company_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.Column("dim", sa.Integer(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"], ["company.id"], name=op.f("fk_company_embedding_company_id_company"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("company_id", "model", name=op.f("pk_company_embedding")),
    )


def downgrade() -> None:
    op.drop_table("company_embedding")
