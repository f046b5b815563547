"""A company as the `company` table stores it: the row a record becomes, and the upsert that writes it."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Table, Text, cast, or_

from firmscout.storage.records import RECORD_FIELDS, CompanyRecord, build_search_text
from firmscout.storage.tables import Company

TABLE: Table = Company.__table__  # type: ignore[assignment]
# The columns a bulk row fills, in its order: the record's fields, its search text, then updated_at.
COLUMNS = [c.name for c in TABLE.columns if c.name != "id"]
assert [*RECORD_FIELDS, "search_text", "updated_at"] == COLUMNS, "bulk rows follow the record's fields"
_UPDATED = [name for name in COLUMNS if name != "domain"]
_COMPARED = [name for name in _UPDATED if name != "updated_at"]
_LIST_POSITIONS = (RECORD_FIELDS.index("industries"), RECORD_FIELDS.index("tags"))

# A record's values in COLUMNS order with the lists as JSON text, less updated_at (set when written).
BulkRow = tuple[Any, ...]


def on_conflict_update(stmt: Any) -> Any:
    """ON CONFLICT (domain) DO UPDATE of every column, only where a value differs."""
    # An unchanged re-import then writes nothing and re-indexes nothing. Setting search_text is what
    # re-indexes a changed row (SQLite's trigger; PostgreSQL's generated column).
    return stmt.on_conflict_do_update(
        index_elements=[TABLE.c.domain],
        set_={name: stmt.excluded[name] for name in _UPDATED},
        where=or_(*(cast(TABLE.c[name], Text).is_distinct_from(cast(stmt.excluded[name], Text)) for name in _COMPARED)),
    )


def bulk_rows(records: Iterable[CompanyRecord]) -> list[BulkRow]:
    """The rows the bulk upsert writes for `records` (pure, so an import builds them in a thread)."""
    dumps = json.dumps
    industries, tags = _LIST_POSITIONS
    rows = []
    for record in records:
        values = [getattr(record, name) for name in RECORD_FIELDS]
        # The JSON columns as SQLAlchemy serializes them, so an unchanged re-import compares equal.
        values[industries] = dumps(list(values[industries]))
        values[tags] = dumps(list(values[tags]))
        values.append(build_search_text(record))
        rows.append(tuple(values))
    return rows
