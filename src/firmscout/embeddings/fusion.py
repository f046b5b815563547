"""Reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009): score(d) = Σ 1 / (k + rank_i(d))."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

K = 60  # the paper's constant; it damps the weight of the very first ranks

T = TypeVar("T", bound=Hashable)


def reciprocal_rank_fusion(rankings: Sequence[Sequence[T]], k: int = K) -> list[T]:
    """Items of all rankings, best fused score first (ranks start at 1; a repeat within a list counts once).

    Ties keep the order of first appearance, scanning the rankings in turn rank by rank, so the result is
    deterministic and, between equally scored items, leans on the earlier ranking.
    """
    scores: dict[T, float] = {}
    first_seen: dict[T, int] = {}
    depth = max((len(r) for r in rankings), default=0)
    for rank in range(depth):
        for ranking in rankings:
            if rank < len(ranking):
                first_seen.setdefault(ranking[rank], len(first_seen))
    for ranking in rankings:
        seen: set[T] = set()
        for rank, item in enumerate(ranking, start=1):
            if item in seen:
                continue
            seen.add(item)
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores, key=lambda item: (-scores[item], first_seen[item]))
