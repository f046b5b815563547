"""Lookup, search and lookalikes: a full-text search fills a candidate pool, the pure scorer ranks it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from firmscout.domains import registered_domain
from firmscout.entities import CompanyProfile
from firmscout.lookalike import scoring
from firmscout.lookalike.filters import Filters, passes
from firmscout.storage.db import read_only
from firmscout.storage.repositories.companies import (
    Ranges,
    Term,
    get_companies_by_ids,
    get_companies_named,
    get_company_by_domain,
    profile_of,
    search_company_ids,
)

# Full-text hits the scorer re-ranks: lookalikes of one company are rarely more than a few hundred, and
# 1,000 measured no better on bench.lookalike (P@100 +0.01) at twice the scoring time. Every page is cut
# from the same pool, so pages never overlap; a search therefore ends after POOL results.
POOL = 500


@dataclass(frozen=True)
class Match:
    company_id: int
    profile: CompanyProfile
    score: float  # 0-1, higher is better; comparable within one response


# Ids are 64-bit on PostgreSQL; a longer number is no company's id.
_MAX_ID = 2**63 - 1


async def find_company(
    sessions: async_sessionmaker[AsyncSession], identifier: str
) -> tuple[int, CompanyProfile] | None:
    """A company by domain (any URL or subdomain form) or by its numeric id; None when unknown."""
    async with read_only(sessions) as session:
        # isascii: "²" is a digit to str.isdigit but not to int().
        if identifier.isascii() and identifier.isdigit() and int(identifier) <= _MAX_ID:
            rows = await get_companies_by_ids(session, [int(identifier)])
            if rows:
                return rows[0].id, profile_of(rows[0])
        domain = registered_domain(identifier)
        if domain is None:
            return None
        company = await get_company_by_domain(session, domain)
        return (company.id, profile_of(company)) if company is not None else None


async def find_reference(
    sessions: async_sessionmaker[AsyncSession], named: str
) -> tuple[int, CompanyProfile] | None:
    """The company a query names ("Stripe", "notion.so", "Lockheed Martin"): by domain when it reads as one,
    else by name (the exact name first, then the shortest that starts with it)."""
    if "." in named and (found := await find_company(sessions, named)) is not None:
        return found
    async with read_only(sessions) as session:
        rows = await get_companies_named(session, named, limit=1)
    return (rows[0].id, profile_of(rows[0])) if rows else None


async def _pool(
    sessions: async_sessionmaker[AsyncSession], tiers: Sequence[Sequence[Term]], filters: Filters
) -> tuple[list[int], list[CompanyProfile]]:
    """Up to POOL companies matching the first tier of terms, topped up from the next tiers.

    The country include and founding range narrow the search itself, so a selective filter still fills
    the pool; the rest (and "unknown fails an include") are checked on the profiles."""
    ranges = Ranges(founded_from=filters.founded_min, founded_to=filters.founded_max)
    ids: dict[int, None] = {}
    async with read_only(sessions) as session:
        for terms in tiers:
            if len(ids) >= POOL or not terms:
                continue
            found = await search_company_ids(
                session, terms=list(terms), countries=filters.include_countries, ranges=ranges, limit=POOL
            )
            # A later tier mostly finds the earlier tiers' companies again: ids first, profiles once.
            ids.update(dict.fromkeys(i for i in found if i not in ids))
            ids = dict.fromkeys(list(ids)[:POOL])
        rows = await get_companies_by_ids(session, list(ids))
    kept = [(row.id, p) for row in rows if passes(filters, p := profile_of(row))]
    return [i for i, _ in kept], [p for _, p in kept]


async def search(
    sessions: async_sessionmaker[AsyncSession], query: str, terms: Sequence[str], filters: Filters, *,
    offset: int, limit: int,
) -> list[Match]:
    """Companies matching any of `terms` (the query's words and their synonyms), ranked by how closely
    their profiles say what `query` says."""
    # Phrases first ("point of sale"): single common words match most of the database, and full-text
    # ranking costs per match.
    phrases = [t for t in terms if " " in t.strip()]
    ids, pool = await _pool(sessions, [phrases, terms], filters)
    ranked = scoring.rank(" ".join((query, *terms)), pool)
    return [Match(ids[s.index], pool[s.index], s.score) for s in ranked[offset : offset + limit]]


async def similar_to(
    sessions: async_sessionmaker[AsyncSession], reference: CompanyProfile, filters: Filters, *,
    offset: int, limit: int,
) -> list[Match]:
    """Companies most like `reference`, best first; the reference itself is never among them."""
    # Adjacent words ("spend management") match a few hundred companies, two of its first words anywhere in
    # one text a few thousand, single words half the database (full-text ranking costs per match): each tier
    # only tops the pool up.
    tiers: list[list[Term]] = [
        [*scoring.query_phrases(reference)], [*scoring.query_pairs(reference)], [*scoring.query_words(reference)],
    ]
    ids, pool = await _pool(sessions, tiers, filters)
    query = scoring.profile_text(reference, products_weight=2)
    ranked = scoring.rank(query, pool, reference=reference)
    return [Match(ids[s.index], pool[s.index], s.score) for s in ranked[offset : offset + limit]]
