"""An in-process vector index: one normalized float32 matrix, top-k by dot product (= cosine).

Exact search: one matrix-vector product per query is fast enough at catalogue sizes, and exact results keep
tasks repeatable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]
Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Neighbour:
    id: int
    score: float


class VectorIndex:
    def __init__(self, ids: Sequence[int] | npt.NDArray[np.int64], vectors: Vectors) -> None:
        if len(ids) != len(vectors):
            raise ValueError(f"{len(ids)} ids for {len(vectors)} vectors")
        self.ids = np.asarray(ids, dtype=np.int64)
        matrix = np.asarray(vectors, dtype=np.float32)
        if matrix.ndim != 2:
            matrix = matrix.reshape(len(self.ids), -1)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        self.matrix: Vectors = np.ascontiguousarray(matrix / norms, dtype=np.float32)

    def __len__(self) -> int:
        return len(self.ids)

    def search(self, query: Vectors, k: int, mask: Mask | None = None) -> list[Neighbour]:
        """The `k` rows most similar to `query`, best first (ties by id); rows where `mask` is False are skipped."""
        if k <= 0 or not len(self.ids):
            return []
        q = np.asarray(query, dtype=np.float32).reshape(-1)
        norm = float(np.linalg.norm(q))
        scores = self.matrix @ (q / norm if norm else q)
        ids = self.ids
        if mask is not None:
            scores, ids = scores[mask], ids[mask]
        if not len(ids):
            return []
        k = min(k, len(ids))
        # argpartition picks the k best in O(n); only those are sorted.
        top = np.argpartition(-scores, k - 1)[:k] if k < len(ids) else np.arange(len(ids))
        order = sorted(top.tolist(), key=lambda i: (-float(scores[i]), int(ids[i])))
        return [Neighbour(int(ids[i]), float(scores[i])) for i in order]
