"""/v1/companies: instant search, lookalikes and lookup. Each search has a POST form (JSON body) and a
deprecated GET form (query parameters, `filters` as a JSON string) that validates the same model and
returns identical results."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from firmscout.api.company_schemas import (
    DEFAULT_LIMIT,
    MAX_DEPTH,
    MAX_LIMIT,
    CompanyMatchOut,
    CompanyOut,
    CompanySearch,
    SearchOut,
    SearchRequestEcho,
    SimilarOut,
    SimilarRequestEcho,
    SimilarSearch,
)
from firmscout.api.deps import CallerDep, runtime
from firmscout.api.schemas import error_responses
from firmscout.lookalike import Filters
from firmscout.tasks import instant

router = APIRouter(prefix="/v1/companies", tags=["companies"])


async def _sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    return runtime(request).sessions


SessionsDep = Annotated[async_sessionmaker[AsyncSession], Depends(_sessions)]
FiltersQuery = Annotated[
    str | None, Query(description='SearchFilters as compact JSON, e.g. {"include":{"country":["Germany"]}}')
]
OffsetQuery = Annotated[int, Query(ge=0, le=MAX_DEPTH - 1)]
LimitQuery = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"offset + limit may reach {MAX_DEPTH}")]
# Starlette decodes %2F before routing: `:path` lets an identifier be a whole URL (https://www.acme.com/about).
_IDENTIFIER = "/{company_identifier:path}"


def _from_query(model: type[CompanySearch] | type[SimilarSearch], values: dict[str, Any],
                filters: str | None, offset: int, limit: int) -> Any:
    """The POST form's body built from query parameters, its errors located in the query string."""
    if filters is not None:
        try:
            values["filters"] = json.loads(filters)
        except ValueError:
            raise RequestValidationError([{
                "loc": ("query", "filters"), "type": "json_invalid",
                "msg": 'filters must be a JSON object, e.g. {"include":{"country":["Germany"]}}',
            }]) from None
    values["pagination"] = {"offset": offset, "limit": limit}
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        for error in errors:
            loc = error["loc"]
            error["loc"] = ("query", *(loc[1:] if loc[:1] == ("pagination",) else loc))
        raise RequestValidationError(errors) from None


def _filters(body: CompanySearch | SimilarSearch) -> tuple[Filters, dict[str, Any]]:
    if body.filters is None:
        return Filters(), {}
    return body.filters.to_filters(), body.filters.echo()


async def _search(sessions: async_sessionmaker[AsyncSession], body: CompanySearch) -> SearchOut:
    filters, echo = _filters(body)
    page = body.pagination
    matches = await instant.search(sessions, body.q, filters, offset=page.offset, limit=page.limit)
    return SearchOut(
        results=[CompanyMatchOut.of_match(m.company_id, m.profile, m.score) for m in matches],
        request=SearchRequestEcho(offset=page.offset, limit=page.limit, query=body.q, filters=echo),
    )


async def _similar(sessions: async_sessionmaker[AsyncSession], identifier: str, body: SimilarSearch) -> SimilarOut:
    filters, echo = _filters(body)
    page = body.pagination
    found = await instant.similar(sessions, identifier, filters, offset=page.offset, limit=page.limit)
    reference = found.reference
    return SimilarOut(
        results=[CompanyMatchOut.of_match(m.company_id, m.profile, m.score) for m in found.matches],
        request=SimilarRequestEcho(offset=page.offset, limit=page.limit, filters=echo,
                                   reference_company_id=str(reference.id)),
        reference_company=CompanyOut.of(reference.id, reference.profile),
    )


@router.post("/search", response_model=SearchOut, summary="Search Companies",
             description="Instant semantic search over the company database, recall-first.",
             responses=error_responses(401, 413))
async def search_companies(body: CompanySearch, _caller: CallerDep, sessions: SessionsDep) -> SearchOut:
    return await _search(sessions, body)


@router.get("/search", response_model=SearchOut, summary="Search Companies (GET)", deprecated=True,
            description="The POST form's search from query parameters; returns identical results.",
            responses=error_responses(401))
async def search_companies_get(
    _caller: CallerDep,
    sessions: SessionsDep,
    q: Annotated[str, Query(min_length=1, max_length=2000)],
    filters: FiltersQuery = None,
    offset: OffsetQuery = 0,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> SearchOut:
    return await _search(sessions, _from_query(CompanySearch, {"q": q}, filters, offset, limit))


@router.post(_IDENTIFIER + "/similar", response_model=SimilarOut, summary="Find Similar Companies",
             description="Lookalikes of a company given by domain (any URL form) or id; it is never among them.",
             responses=error_responses(401, 404, 413))
async def similar_companies(
    company_identifier: str, _caller: CallerDep, sessions: SessionsDep,
    body: Annotated[SimilarSearch | None, Body()] = None,
) -> SimilarOut:
    return await _similar(sessions, company_identifier, body or SimilarSearch())


@router.get(_IDENTIFIER + "/similar", response_model=SimilarOut, summary="Find Similar Companies (GET)",
            deprecated=True, description="The POST form's lookalikes from query parameters; identical results.",
            responses=error_responses(401, 404))
async def similar_companies_get(
    company_identifier: str,
    _caller: CallerDep,
    sessions: SessionsDep,
    filters: FiltersQuery = None,
    offset: OffsetQuery = 0,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> SimilarOut:
    return await _similar(sessions, company_identifier, _from_query(SimilarSearch, {}, filters, offset, limit))


@router.get(_IDENTIFIER, response_model=CompanyOut, summary="Get Company",
            description="A company by domain (any URL or subdomain form) or id.", responses=error_responses(401, 404))
async def get_company(company_identifier: str, _caller: CallerDep, sessions: SessionsDep) -> CompanyOut:
    company = await instant.lookup(sessions, company_identifier)
    return CompanyOut.of(company.id, company.profile)
