"""procrastinate job-queue schema (PostgreSQL only)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28

The scaled-out queue (queue/procrastinate.py) keeps its jobs in PostgreSQL tables owned by procrastinate.
Its schema is applied here, at the procrastinate version pinned in constraints.txt, so that one migration
run prepares everything. SQLite deployments use the embedded queue and get nothing.
"""
from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    from procrastinate.schema import SchemaManager

    # Straight to the psycopg cursor with no parameters: the schema is many statements with `$$` bodies and
    # `%` characters, which SQLAlchemy (even exec_driver_sql) would hand over as a parameterised query.
    cursor = bind.connection.cursor()
    try:
        cursor.execute(SchemaManager.get_schema())
    finally:
        cursor.close()


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for table in ("procrastinate_events", "procrastinate_periodic_defers", "procrastinate_jobs",
                  "procrastinate_workers"):
        bind.exec_driver_sql(f"DROP TABLE IF EXISTS {table} CASCADE")
