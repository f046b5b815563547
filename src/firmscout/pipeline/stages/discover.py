"""Discover: ask each open source for its next page; drop frozen exclusions and duplicates by domain."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from firmscout.entities import SourceHit


def candidate_rows(hits: Iterable[SourceHit], excluded: frozenset[str]) -> list[dict[str, Any]]:
    """Rows for the candidate table: excluded domains and repeats within the page are dropped here;
    repeats across pages and sources are dropped by the (task_id, domain) unique key on insert."""
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for hit in hits:
        if hit.domain in excluded or hit.domain in seen:
            continue
        seen.add(hit.domain)
        rows.append(
            {
                "domain": hit.domain,
                "source": hit.source,
                "company_id": hit.company_id,
                # Only a source that gave no profile needs the hit: a profile already holds these fields.
                "hit": {} if hit.profile else {"name": hit.name, "url": hit.url, "snippet": hit.snippet},
                "profile": hit.profile.to_dict() if hit.profile else None,
            }
        )
    return rows
