"""Why a task's candidates did not become results: each candidate's mark, and the task's tally of them.

A candidate that leaves the funnel without becoming a result carries `removed_by`, the keys of the criteria
that failed it (a pre-filter miss on known data, or a grade below 4), or `DUPLICATE` when its website turned
out to be another candidate's. The task keeps the sum as `candidates_removed`, the same JSON on every
database, added to in the transaction that settles the candidates (pure code: no SQL here).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# Not a valid criterion key (those start with a letter), so it never collides with one.
DUPLICATE = ":duplicate"
# Stages in which a candidate has had its verdict: graded (a result or not) or dropped.
VERDICT_STAGES = ("evaluated", "filtered")


@dataclass(frozen=True)
class Removals:
    """Candidates that reached a verdict, how many each criterion failed (one failed by two criteria counts
    for both), and how many were duplicates of another candidate."""

    considered: int = 0
    by_criterion: Mapping[str, int] = field(default_factory=dict)
    duplicates: int = 0

    def __add__(self, other: Removals) -> Removals:
        return Removals(
            self.considered + other.considered,
            dict(Counter(self.by_criterion) + Counter(other.by_criterion)),
            self.duplicates + other.duplicates,
        )

    def __bool__(self) -> bool:
        return bool(self.considered or self.by_criterion or self.duplicates)

    def to_dict(self) -> dict[str, Any]:
        # Keys sorted, so both databases store (and serve) the same text.
        return {"considered": self.considered, "by_criterion": dict(sorted(self.by_criterion.items())),
                "duplicates": self.duplicates}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Removals:
        if not data:
            return cls()
        by = {str(k): int(v) for k, v in (data.get("by_criterion") or {}).items()}
        return cls(int(data.get("considered") or 0), by, int(data.get("duplicates") or 0))


def tally(settled: Iterable[tuple[str, Sequence[str] | None]]) -> Removals:
    """Sum (stage, removed_by) pairs of settled candidates; those not yet at a verdict count for nothing."""
    considered = duplicates = 0
    by_criterion: Counter[str] = Counter()
    for stage, removed_by in settled:
        if stage not in VERDICT_STAGES:
            continue
        considered += 1
        for key in dict.fromkeys(removed_by or ()):
            if key == DUPLICATE:
                duplicates += 1
            else:
                by_criterion[key] += 1
    return Removals(considered, dict(by_criterion), duplicates)
