"""A response cache in a small SQLite file beside the data: a rerun of the same prompt costs nothing.

It is deliberately not in the application database (and so not in `storage/`): it is disposable, holds no
data of record, and must not share that database's migrations or locks. Deleting the file is always safe.
The cache is best-effort: a locked or broken file is logged and skipped, never a task failure.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def cache_key(model: str, messages: list[dict[str, str]], schema: dict[str, Any]) -> str:
    blob = json.dumps({"model": model, "messages": messages, "schema": schema}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


class ResponseCache:
    def __init__(self, path: Path) -> None:
        self._path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as conn, conn:
            # WAL: several worker processes may read and write the file at once.
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("CREATE TABLE IF NOT EXISTS llm_response (key TEXT PRIMARY KEY, body TEXT NOT NULL)")

    def _connect(self) -> sqlite3.Connection:
        # Used as `closing(conn), conn`: the connection's own context manager commits but never closes.
        # A short busy timeout: waiting longer for a cache than the model would take defeats its purpose.
        return sqlite3.connect(self._path, timeout=5)

    def _get(self, key: str) -> str | None:
        with closing(self._connect()) as conn, conn:
            row = conn.execute("SELECT body FROM llm_response WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def _put(self, key: str, body: str) -> None:
        with closing(self._connect()) as conn, conn:
            conn.execute("INSERT OR REPLACE INTO llm_response (key, body) VALUES (?, ?)", (key, body))

    async def get(self, key: str) -> dict[str, Any] | None:
        try:
            body = await asyncio.to_thread(self._get, key)
            value = json.loads(body) if body else None
        except (sqlite3.Error, ValueError) as exc:
            log.warning("LLM cache %s unreadable (%s); asking the model", self._path, exc)
            return None
        return value if isinstance(value, dict) else None

    async def put(self, key: str, value: dict[str, Any]) -> None:
        try:
            await asyncio.to_thread(self._put, key, json.dumps(value))
        except sqlite3.Error as exc:
            log.warning("LLM cache %s not written (%s)", self._path, exc)
