"""What every bench command shares: its section of docs/benchmarks.md and throwaway PostgreSQL databases."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
# A block holds current figures only: its heading and method text are written by hand outside the markers,
# and git dates each rewrite, so a heading or a timestamp inside a block would pile up as a run log.
_HEADING = re.compile(r"^#", re.MULTILINE)
_TIMESTAMP = re.compile(r"\b\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}|\bUTC\b")


def check_block(section: str) -> None:
    """ValueError, naming the line, if `section` holds more than a block may."""
    for pattern, what in ((_HEADING, "a heading"), (_TIMESTAMP, "a date and time")):
        if found := pattern.search(section):
            line = section[section.rfind("\n", 0, found.start()) + 1:].split("\n", 1)[0]
            raise ValueError(f"A docs/benchmarks.md block holds tables only, not {what}: {line!r}. Put it in "
                             "the hand-written text outside the markers, or leave it to git.")


def write_section(name: str, section: str) -> None:
    """Replace (or append) the block between `<!-- name:start -->` and `<!-- name:end -->`."""
    check_block(section)
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    doc = DOC.read_text() if DOC.exists() else "# Benchmarks\n\nFigures printed by the bench commands.\n"
    block = f"{start}\n{section}\n{end}"
    if start in doc:
        before, rest = doc.split(start, 1)
        doc = before + block + rest.split(end, 1)[1]
    else:
        doc = doc.rstrip() + "\n\n" + block + "\n"
    DOC.write_text(doc)
    print(f"wrote the {name} block of docs/benchmarks.md")


@contextmanager
def pg_database(prefix: str) -> Iterator[str]:
    """A fresh PostgreSQL database on the local server, dropped afterwards; raises psycopg.Error if none."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=2) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
