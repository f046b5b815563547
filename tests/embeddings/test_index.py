"""The in-process vector index against brute force."""

from __future__ import annotations

import pytest

np = pytest.importorskip("numpy")

from firmscout.embeddings.index import VectorIndex  # noqa: E402


def _random(n: int, dim: int = 16, seed: int = 7) -> tuple[object, object]:
    rng = np.random.default_rng(seed)
    return np.arange(1000, 1000 + n), rng.standard_normal((n, dim)).astype(np.float32)


class TestVectorIndex:
    @pytest.mark.parametrize("k", [1, 5, 50, 200])
    def test_top_k_equals_brute_force(self, k: int) -> None:
        ids, vectors = _random(200)
        index = VectorIndex(ids, vectors)
        query = np.random.default_rng(1).standard_normal(16).astype(np.float32)
        unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        cosine = unit @ (query / np.linalg.norm(query))
        expected = [int(ids[i]) for i in np.argsort(-cosine)[:k]]
        got = index.search(query, k)
        assert [n.id for n in got] == expected
        assert [round(n.score, 5) for n in got] == [round(float(cosine[i]), 5) for i in np.argsort(-cosine)[:k]]

    def test_mask_skips_rows(self) -> None:
        ids, vectors = _random(50)
        index = VectorIndex(ids, vectors)
        mask = np.zeros(50, dtype=bool)
        mask[[3, 10, 40]] = True
        got = index.search(vectors[10], 10, mask)
        assert {n.id for n in got} == {1003, 1010, 1040}
        assert got[0].id == 1010 and got[0].score == pytest.approx(1.0)

    def test_empty_and_zero_k(self) -> None:
        ids, vectors = _random(5)
        assert VectorIndex(ids, vectors).search(vectors[0], 0) == []
        assert VectorIndex(ids[:0], vectors[:0]).search(vectors[0], 3) == []
        assert VectorIndex(ids, vectors).search(vectors[0], 3, np.zeros(5, dtype=bool)) == []

    def test_rows_are_normalised(self) -> None:
        index = VectorIndex([1, 2], np.array([[3.0, 4.0], [0.0, 0.0]], dtype=np.float32))
        assert np.allclose(index.matrix[0], [0.6, 0.8])
        assert np.allclose(index.matrix[1], [0.0, 0.0])

    def test_ids_and_vectors_must_match(self) -> None:
        with pytest.raises(ValueError, match="2 ids for 1 vectors"):
            VectorIndex([1, 2], np.zeros((1, 4), dtype=np.float32))
