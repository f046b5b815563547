from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from firmscout.storage.tables import Base

config = context.config
connection = config.attributes.get("connection")

if connection is None:  # `alembic` CLI use: URL from -x url=... or alembic.ini
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    assert url, "pass -x url=sqlite:///path.db"
    from firmscout.storage.db import sync_url

    engine = create_engine(sync_url(url))
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=Base.metadata, render_as_batch=True)
        context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    context.run_migrations()
