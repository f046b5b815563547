"""Instant search, lookalikes and company lookup (shared/spec/extruct-instant-search.md): the use cases
behind /v1/companies, answered synchronously from the company database through `lookalike`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from firmscout import lookalike
from firmscout.domains import registered_domain
from firmscout.entities import CompanyProfile
from firmscout.errors import NotFound
from firmscout.lookalike import Filters, Match
from firmscout.pipeline.local import parse_query

_WORD = re.compile(r"[^\W_]+")
# As many as the query parser hands on (pipeline/local/query_parser.py).
_MAX_TERMS = 16


@dataclass(frozen=True)
class Company:
    id: int
    profile: CompanyProfile


@dataclass(frozen=True)
class Lookalikes:
    reference: Company
    matches: list[Match]


def search_terms(query: str) -> tuple[str, ...]:
    """The parser's topic terms and synonyms; the query's own words when it finds no topic. The places and
    bounds it reads stay out: instant search is recall-first, and filters are the caller's to give."""
    terms = parse_query(query).search_terms
    return terms or tuple(dict.fromkeys(w.lower() for w in _WORD.findall(query)))[:_MAX_TERMS]


async def lookup(sessions: async_sessionmaker[AsyncSession], identifier: str, *, reference: bool = False) -> Company:
    """The company a domain (any URL or subdomain form) or a numeric id names; NotFound when unknown."""
    found = await lookalike.find_company(sessions, identifier)
    if found is None:
        raise NotFound(_not_found(identifier, reference=reference))
    return Company(*found)


def _not_found(identifier: str, *, reference: bool) -> str:
    what = "Reference company" if reference else "Company"
    domain = registered_domain(identifier)
    named = f"{domain} is not in the company database" if domain else "no company has that domain or id"
    return (f"{what} not found: {named}. Pass a domain (acme.com) or a company id, or add the company with "
            "`firmscout companies import`.")


async def search(
    sessions: async_sessionmaker[AsyncSession], query: str, filters: Filters, *, offset: int, limit: int
) -> list[Match]:
    return await lookalike.search(sessions, query, search_terms(query), filters, offset=offset, limit=limit)


async def similar(
    sessions: async_sessionmaker[AsyncSession], identifier: str, filters: Filters, *, offset: int, limit: int
) -> Lookalikes:
    """Companies like the one `identifier` names, best first, without it; NotFound when it is unknown."""
    reference = await lookup(sessions, identifier, reference=True)
    matches = await lookalike.similar_to(sessions, reference.profile, filters, offset=offset, limit=limit)
    return Lookalikes(reference, matches)
