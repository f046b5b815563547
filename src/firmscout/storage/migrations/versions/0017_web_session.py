"""Web app sign-ins

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02

A browser that signs in to the web app with an API token gets a session: a random secret in an HttpOnly
cookie, stored here as its sha256 beside the token it was opened with and the form (CSRF) token of its pages.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_session",
        sa.Column("id_hash", sa.String(64), nullable=False),
        sa.Column("token_id", sa.String(36), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["token_id"], ["api_token.id"], name="fk_web_session_token_id_api_token",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id_hash", name="pk_web_session"),
    )
    op.create_index("ix_web_session_token_id", "web_session", ["token_id"])
    op.create_index("ix_web_session_expires_at", "web_session", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_web_session_expires_at", table_name="web_session")
    op.drop_index("ix_web_session_token_id", table_name="web_session")
    op.drop_table("web_session")
