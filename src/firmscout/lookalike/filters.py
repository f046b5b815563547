"""Instant-search filters (Extruct's `SearchFilters`), already validated and normalised by the API layer."""

from __future__ import annotations

from dataclasses import dataclass

from firmscout.entities import CompanyProfile, employee_bucket
from firmscout.geography import same_place


@dataclass(frozen=True)
class Filters:
    """Countries are canonical English short names ("Germany"), sizes are Extruct's bucket labels
    ("51-200"), domains registered domains. A company whose field is unknown fails an include and passes an
    exclude on that field."""

    include_countries: tuple[str, ...] = ()
    include_cities: tuple[str, ...] = ()
    include_sizes: tuple[str, ...] = ()
    exclude_countries: tuple[str, ...] = ()
    exclude_cities: tuple[str, ...] = ()
    exclude_sizes: tuple[str, ...] = ()
    exclude_domains: tuple[str, ...] = ()
    founded_min: int | None = None
    founded_max: int | None = None


def size_of(profile: CompanyProfile) -> str | None:
    """The company's size bucket: its stored label, else the bucket of its head count."""
    return profile.employee_count or employee_bucket(profile.employees)


def passes(filters: Filters, profile: CompanyProfile) -> bool:
    size = size_of(profile)
    city = profile.city
    if filters.include_countries and profile.country not in filters.include_countries:
        return False
    if filters.include_cities and not (city and any(same_place(city, c) for c in filters.include_cities)):
        return False
    if filters.include_sizes and size not in filters.include_sizes:
        return False
    if filters.exclude_countries and profile.country in filters.exclude_countries:
        return False
    if filters.exclude_cities and city and any(same_place(city, c) for c in filters.exclude_cities):
        return False
    if filters.exclude_sizes and size in filters.exclude_sizes:
        return False
    if filters.exclude_domains and profile.domain in filters.exclude_domains:
        return False
    year = profile.founded_year
    if filters.founded_min is not None and (year is None or year < filters.founded_min):
        return False
    return not (filters.founded_max is not None and (year is None or year > filters.founded_max))
