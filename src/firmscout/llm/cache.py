"""A response cache in a small SQLite file beside the data: a rerun of the same prompt costs nothing.

It is deliberately not in the application database: it is disposable, holds no tenant data of record,
and must not share that database's migrations or locks.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any


def cache_key(model: str, messages: list[dict[str, str]], schema: dict[str, Any]) -> str:
    blob = json.dumps({"model": model, "messages": messages, "schema": schema}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


class ResponseCache:
    def __init__(self, path: Path) -> None:
        self._path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS llm_response (key TEXT PRIMARY KEY, body TEXT NOT NULL)")

    def _get(self, key: str) -> str | None:
        with sqlite3.connect(self._path) as conn:
            row = conn.execute("SELECT body FROM llm_response WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def _put(self, key: str, body: str) -> None:
        with sqlite3.connect(self._path) as conn:
            conn.execute("INSERT OR REPLACE INTO llm_response (key, body) VALUES (?, ?)", (key, body))

    async def get(self, key: str) -> dict[str, Any] | None:
        body = await asyncio.to_thread(self._get, key)
        return json.loads(body) if body else None

    async def put(self, key: str, value: dict[str, Any]) -> None:
        await asyncio.to_thread(self._put, key, json.dumps(value))
