"""Pre-filter and enrich: give each discovered candidate a company profile, or drop it early."""

from __future__ import annotations

from typing import Any

from firmscout.entities import CompanyProfile, Plan
from firmscout.pipeline.local.ranking import passes_prefilter


def profile_from_hit(domain: str, hit: dict[str, Any], stored_profile: dict[str, Any] | None) -> CompanyProfile:
    """Sources that hold full records (the local database) deliver the profile at discovery; others give
    a name and snippet, which is the profile until a web enricher exists."""
    if stored_profile:
        return CompanyProfile.from_dict(stored_profile)
    url = hit.get("url")
    return CompanyProfile(
        domain=domain,
        name=hit.get("name") or domain,
        description=hit.get("snippet"),
        website=domain,
        sources=(url,) if url else (),
    )


def keep(plan: Plan, profile: CompanyProfile) -> bool:
    return passes_prefilter(plan, profile)
