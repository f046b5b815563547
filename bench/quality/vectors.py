"""Company vectors cached on disk between bench runs (outside the repo), keyed by model and text.

Embedding FinanceDatabase's ~27,000 long summaries takes many minutes on two shared cores; the cache makes
that a one-off, so reruns measure retrieval, not the model. Query vectors are never cached: their cost is
part of a task's latency.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from firmscout.embeddings.service import TextEncoder

CACHE_DIR = Path(os.environ.get("FIRMSCOUT_BENCH_CACHE", Path.home() / ".cache" / "firmscout-bench"))
CHUNK = 512  # texts encoded and committed per step, so an interrupted warm-up keeps what it did


class CachedEncoder:
    def __init__(self, encoder: TextEncoder, model: str, path: Path | None = None) -> None:
        self._encoder = encoder
        self._model = model
        path = path or CACHE_DIR / "vectors.sqlite"
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS vector (key TEXT PRIMARY KEY, v BLOB NOT NULL)")
        self.encoded = 0
        self.encode_seconds = 0.0
        self.hits = 0

    def _key(self, text: str) -> str:
        return hashlib.sha256(f"{self._model}\0{text}".encode()).hexdigest()

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> npt.NDArray[np.float32]:
        keys = [self._key(t) for t in texts]
        found: dict[str, bytes] = {}
        for start in range(0, len(keys), 900):
            chunk = keys[start : start + 900]
            marks = ",".join("?" * len(chunk))
            found.update(self._db.execute(f"SELECT key, v FROM vector WHERE key IN ({marks})", chunk).fetchall())
        self.hits += len(found)
        missing = [i for i, k in enumerate(keys) if k not in found]
        for start in range(0, len(missing), CHUNK):
            part = missing[start : start + CHUNK]
            began = time.perf_counter()
            vectors = self._encoder.encode([texts[i] for i in part], batch_size)
            self.encode_seconds += time.perf_counter() - began
            self.encoded += len(part)
            rows = [(keys[i], vec.astype("<f4").tobytes()) for i, vec in zip(part, vectors, strict=True)]
            self._db.executemany("INSERT OR REPLACE INTO vector VALUES (?, ?)", rows)
            self._db.commit()
            found.update(rows)
        return np.stack([np.frombuffer(found[k], dtype="<f4") for k in keys]) if keys else np.zeros((0, 384), "f4")
