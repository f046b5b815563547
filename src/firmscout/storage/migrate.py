"""Run Alembic migrations to head; called on every start (idempotent)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event, text

from firmscout.storage.db import is_sqlite, sync_url

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def upgrade(url: str) -> None:
    target = sync_url(url)
    if is_sqlite(url) and target.database and target.database != ":memory:":
        Path(target.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(target)
    sqlite = is_sqlite(url)
    if sqlite:
        # Several processes may start at once: BEGIN IMMEDIATE makes them migrate one after another.
        @event.listens_for(engine, "connect")
        def _autocommit(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _immediate(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    try:
        with engine.begin() as conn:
            if not sqlite:
                # Same reason on PostgreSQL: a transaction-scoped advisory lock serialises migrators.
                conn.execute(text("SELECT pg_advisory_xact_lock(7243001)"))
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    finally:
        engine.dispose()
