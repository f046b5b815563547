"""Retrieval metrics over ranked domain lists (pure)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float
    ndcg10: float


def score(ranked: Sequence[str], truth: set[str], k: int) -> Scores:
    """Precision of what was returned; recall against min(|truth|, k), the most a k-result list can hold;
    nDCG@10 with binary gains. An empty answer scores 0 precision (it found nothing)."""
    hits = [d in truth for d in ranked]
    found = sum(hits)
    precision = found / len(ranked) if ranked else 0.0
    reachable = min(len(truth), k)
    recall = found / reachable if reachable else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    dcg = sum(1 / math.log2(i + 2) for i, hit in enumerate(hits[:10]) if hit)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(10, len(truth))))
    return Scores(precision, recall, f1, dcg / ideal if ideal else 0.0)


def macro(scores: Sequence[Scores]) -> Scores:
    n = len(scores) or 1
    return Scores(*(sum(getattr(s, f) for s in scores) / n for f in ("precision", "recall", "f1", "ndcg10")))
