"""A company as the `company` table stores it: the row a `CompanyProfile` becomes, the profile a row gives
back, and the upsert that writes rows."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import fields, replace
from typing import Any

from sqlalchemy import Table, Text, cast, or_

from firmscout.entities import CompanyProfile
from firmscout.storage.tables import Company

TABLE: Table = Company.__table__  # type: ignore[assignment]
# The columns a bulk row fills, in its order: the profile's stored fields, its search text, then updated_at.
COLUMNS = [c.name for c in TABLE.columns if c.name != "id"]
STORED = [name for name in COLUMNS if name not in ("search_text", "updated_at")]
assert set(STORED) <= {f.name for f in fields(CompanyProfile)}, "every stored column is a profile field"
_LISTS = ("industries", "tags")
_LIST_POSITIONS = tuple(STORED.index(name) for name in _LISTS)
_UPDATED = [name for name in COLUMNS if name != "domain"]
_COMPARED = [name for name in _UPDATED if name != "updated_at"]

# A profile's values in COLUMNS order with the lists as JSON text, less updated_at (set when written).
BulkRow = tuple[Any, ...]


def search_text(company: CompanyProfile) -> str:
    """The text the full-text index sees: every field a searcher could mean, in one string."""
    parts: list[str | None] = [
        company.name,
        company.description,
        company.full_description,
        " ".join(company.industries),
        # Tags are slugs ("artificial-intelligence"); both tokenizers split on "-", so they match as words.
        " ".join(company.tags),
        company.products,
        company.city,
        company.state,
        company.country,
    ]
    return "\n".join(p.strip() for p in parts if p and p.strip())


def row_of(company: CompanyProfile) -> dict[str, Any]:
    """The column values of a profile (updated_at aside)."""
    row = {name: getattr(company, name) for name in STORED}
    for name in _LISTS:
        row[name] = list(row[name])
    row["search_text"] = search_text(company)
    return row


def profile_of(row: Company) -> CompanyProfile:
    """A stored company back as a profile (sources are the caller's to add)."""
    values = {name: getattr(row, name) for name in STORED}
    for name in _LISTS:
        values[name] = tuple(values[name] or ())
    return replace(_BLANK, **values)


_BLANK = CompanyProfile(domain="", name="")


def on_conflict_update(stmt: Any) -> Any:
    """ON CONFLICT (domain) DO UPDATE of every column, only where a value differs."""
    # An unchanged re-import then writes nothing and re-indexes nothing. Setting search_text is what
    # re-indexes a changed row (SQLite's trigger; PostgreSQL's generated column).
    return stmt.on_conflict_do_update(
        index_elements=[TABLE.c.domain],
        set_={name: stmt.excluded[name] for name in _UPDATED},
        where=or_(*(cast(TABLE.c[name], Text).is_distinct_from(cast(stmt.excluded[name], Text)) for name in _COMPARED)),
    )


def bulk_rows(companies: Iterable[CompanyProfile]) -> list[BulkRow]:
    """The rows the bulk upsert writes (pure, so an import builds them in a thread)."""
    dumps = json.dumps
    rows = []
    for company in companies:
        values = [getattr(company, name) for name in STORED]
        # The JSON columns as SQLAlchemy serializes them, so an unchanged re-import compares equal.
        for position in _LIST_POSITIONS:
            values[position] = dumps(list(values[position]))
        values.append(search_text(company))
        rows.append(tuple(values))
    return rows
