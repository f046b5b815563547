"""Wire models of the instant endpoints and billing, field names exactly as
shared/spec/extruct-instant-search.md. Filters are validated and normalised here (countries to canonical
names, domains to registered domains), so both forms of an endpoint refuse and accept the same input."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from firmscout.api.schemas import Count, Storable, StrictModel, UserOut
from firmscout.domains import registered_domain
from firmscout.entities import CompanyProfile
from firmscout.geography import country_code, country_name, lexicon, lookup_country, words
from firmscout.lookalike import Filters

# Extruct's paging: `limit` per request, and how deep `offset + limit` may reach.
MAX_LIMIT = 250
MAX_DEPTH = 2000
DEFAULT_LIMIT = 20
MAX_EXCLUDED_DOMAINS = 1000
# Not in the spec: a bound on the other filter lists, far above any real use.
MAX_FILTER_VALUES = 250

# EMPLOYEE_BUCKETS' labels, spelt out so the OpenAPI schema lists them (tests check the two agree).
SizeBucket = Literal["1-10", "11-50", "51-200", "201-500", "501-1000", "1001-5000", "5001-10000", "10001+"]


def country_names(value: str) -> tuple[str, ...]:
    """The canonical English names a country name, ISO code (alpha-2, alpha-3, numeric), alias or region
    ("Nordics", "DACH") stands for; () when it names no country. Resolved as the planner resolves countries
    (pipeline/stages/plan.py), with the import's ISO lookup (catalog/cleaning.py) behind it."""
    place = lexicon().get(words(value))
    if place is not None and place.countries and not place.cities and not place.states:
        codes: tuple[str, ...] = place.countries
    else:
        code = country_code(value) or lookup_country(value.strip().lower())
        codes = (code,) if code else ()
    return tuple(dict.fromkeys(country_name(c) for c in codes))


def _known_country(value: str) -> str:
    if not country_names(value):
        raise ValueError("unknown country: give an English name (Germany), an ISO code (DE, DEU) or a region (DACH)")
    return value


def _canonical_countries(values: list[str]) -> list[str]:
    return list(dict.fromkeys(name for value in values for name in country_names(value)))


def _registered(value: str) -> str:
    domain = registered_domain(value)
    if domain is None:
        raise ValueError("not a domain or URL with a public suffix (e.g. acme.com)")
    return domain


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


Country = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), Storable,
                    AfterValidator(_known_country)]
Countries = Annotated[list[Country], Field(max_length=MAX_FILTER_VALUES), AfterValidator(_canonical_countries)]
City = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), Storable]
Cities = Annotated[list[City], Field(max_length=MAX_FILTER_VALUES), AfterValidator(_unique)]
Sizes = Annotated[list[SizeBucket], Field(max_length=MAX_FILTER_VALUES)]
Domain = Annotated[str, StringConstraints(max_length=2048), Storable, AfterValidator(_registered)]
Domains = Annotated[list[Domain], Field(max_length=MAX_EXCLUDED_DOMAINS), AfterValidator(_unique)]


class IncludeFilters(StrictModel):
    size: Sizes | None = None
    country: Countries | None = None
    city: Cities | None = None


class ExcludeFilters(IncludeFilters):
    domains: Domains | None = Field(
        None, description=f"URLs or domains, normalised to registered domains; at most {MAX_EXCLUDED_DOMAINS}."
    )


class FoundedRange(StrictModel):
    min: Count | None = None
    max: Count | None = None

    @model_validator(mode="after")
    def _ordered(self) -> FoundedRange:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min must not be greater than max")
        return self


class RangeFilters(StrictModel):
    founded: FoundedRange | None = None


class SearchFilters(StrictModel):
    """Extruct's `SearchFilters`. A company whose field is unknown fails an `include` on it and passes an
    `exclude`. Countries accept names, ISO codes, aliases and regions; the echo shows canonical names."""

    include: IncludeFilters | None = None
    exclude: ExcludeFilters | None = None
    range: RangeFilters | None = None

    def to_filters(self) -> Filters:
        include = self.include or IncludeFilters()
        exclude = self.exclude or ExcludeFilters()
        founded = (self.range.founded if self.range else None) or FoundedRange()
        return Filters(
            include_countries=tuple(include.country or ()),
            include_cities=tuple(include.city or ()),
            include_sizes=tuple(include.size or ()),
            exclude_countries=tuple(exclude.country or ()),
            exclude_cities=tuple(exclude.city or ()),
            exclude_sizes=tuple(exclude.size or ()),
            exclude_domains=tuple(exclude.domains or ()),
            founded_min=founded.min,
            founded_max=founded.max,
        )

    def echo(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class Pagination(StrictModel):
    offset: Count = Field(0, ge=0, le=MAX_DEPTH - 1)
    limit: Count = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)

    @field_validator("limit")
    @classmethod
    def _within_depth(cls, limit: int, info: ValidationInfo) -> int:
        # `offset` is validated first (declared first); absent from `data` when it was itself invalid.
        offset = info.data.get("offset")
        if offset is not None and offset + limit > MAX_DEPTH:
            raise ValueError(f"offset + limit must be at most {MAX_DEPTH}: lower limit or offset")
        return limit


class CompanySearch(StrictModel):
    q: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), Storable] = Field(
        description="What the companies do, in plain words."
    )
    filters: SearchFilters | None = None
    pagination: Pagination = Field(default_factory=Pagination)


class SimilarSearch(StrictModel):
    filters: SearchFilters | None = None
    pagination: Pagination = Field(default_factory=Pagination)


class CompanyOut(BaseModel):
    """A company of the database; fields Firmscout does not know are null (objects: {})."""

    id: str
    domain: str
    name: str
    short_description: str | None
    full_description: str | None
    products_services: str | None
    use_cases: str | None = None
    target_audience: str | None = None
    other_considerations: str | None = None
    founding_year: int | None
    employee_count: str | None = Field(description='Exact head count ("1200") when known, else a size bucket.')
    hq_country: str | None
    hq_state_province: str | None
    hq_city: str | None
    hq_full_address: str | None
    social_profiles: dict[str, str]
    website_authority: dict[str, Any]

    @classmethod
    def fields_of(cls, company_id: int, profile: CompanyProfile) -> dict[str, Any]:
        address = None
        if profile.city:
            address = ", ".join(p for p in (profile.city, profile.state, profile.country) if p)
        return {
            "id": str(company_id),
            "domain": profile.domain,
            "name": profile.name,
            "short_description": profile.description,
            "full_description": profile.full_description,
            "products_services": profile.products,
            "founding_year": profile.founded_year,
            "employee_count": str(profile.employees) if profile.employees else profile.employee_count,
            "hq_country": profile.country,
            "hq_state_province": profile.state,
            "hq_city": profile.city,
            "hq_full_address": address,
            "social_profiles": {"linkedin": profile.linkedin_url} if profile.linkedin_url else {},
            "website_authority": {},
        }

    @classmethod
    def of(cls, company_id: int, profile: CompanyProfile) -> CompanyOut:
        return cls(**cls.fields_of(company_id, profile))


class CompanyMatchOut(CompanyOut):
    relevance_score: float = Field(description="0-1, higher is better; comparable within one response.")

    @classmethod
    def of_match(cls, company_id: int, profile: CompanyProfile, score: float) -> CompanyMatchOut:
        return cls(**cls.fields_of(company_id, profile), relevance_score=score)


class SearchRequestEcho(BaseModel):
    offset: int
    limit: int
    query: str
    filters: dict[str, Any]


class SearchOut(BaseModel):
    results: list[CompanyMatchOut]
    request: SearchRequestEcho


class SimilarRequestEcho(BaseModel):
    offset: int
    limit: int
    filters: dict[str, Any]
    reference_company_id: str


class SimilarOut(BaseModel):
    results: list[CompanyMatchOut]
    request: SimilarRequestEcho
    reference_company: CompanyOut


class Subscription(BaseModel):
    requires_subscription: bool
    plan_tier: str


class BillingOut(BaseModel):
    """Self-hosted has no plans: every account may use every feature."""

    user: UserOut
    subscription: Subscription
