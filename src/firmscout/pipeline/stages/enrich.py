"""Pre-filter and enrich: give each discovered candidate a company profile, or drop it early."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from firmscout.entities import CompanyProfile, Passage, Plan
from firmscout.pipeline.local.ranking import prefilter
from firmscout.web.site import WebsiteProfile

# Text of one page a grader gets: enough for what a company says about itself, small enough to store per candidate.
PASSAGE_CHARS = 4000


HIT = "hit"  # the origin of a profile made from a source's hit alone


def profile_from_hit(domain: str, hit: dict[str, Any], stored_profile: dict[str, Any] | None) -> CompanyProfile:
    """Sources that hold full records (the local database) deliver the profile at discovery; others give
    a name and snippet, which the company's website then fills in (`with_website`)."""
    if stored_profile:
        return CompanyProfile.from_dict(stored_profile)
    url = hit.get("url")
    return CompanyProfile(
        domain=domain,
        name=hit.get("name") or domain,
        description=hit.get("snippet"),
        website=domain,
        sources=(url,) if url else (),
        origin=HIT,
    )


def ruled_out_by(plan: Plan, profile: CompanyProfile) -> tuple[str, ...]:
    """The criteria whose known misses drop the candidate before enrichment; empty when it is kept."""
    return prefilter(plan, profile)


def with_website(profile: CompanyProfile, site: WebsiteProfile) -> CompanyProfile:
    """The profile with what the company's website says: the profile's own fields win unless empty, the
    pages' text becomes evidence, and every page read becomes a source."""
    if site.error is not None:
        return replace(profile, web_status=site.error)
    fills: dict[str, object] = {}
    # A name from a search result's title is a guess ("Industrial robots in Germany - Wikipedia" links an
    # association); the name the site gives itself is not.
    if site.name is not None and (not profile.name or profile.name == profile.domain or profile.origin == HIT):
        fills["name"] = str(site.name.value)
    for field in ("description", "country", "city", "founded_year", "employees"):
        fact = getattr(site, field)
        if fact is not None and getattr(profile, field) in (None, ""):
            fills[field] = fact.value
    if site.linkedin_url and not profile.linkedin_url:
        fills["linkedin_url"] = site.linkedin_url
    passages = tuple(Passage(p.url, p.text[:PASSAGE_CHARS]) for p in site.passages)
    sources = tuple(dict.fromkeys((*profile.sources, *site.sources)))
    return replace(profile, **fills, passages=passages, sources=sources, web_status="read")  # type: ignore[arg-type]
