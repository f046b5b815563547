"""The built-in seed: the listed companies shipped in the `pytickersymbols` package, cleaned."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from firmscout.catalog.cleaning import (
    Location,
    clean_text,
    location_from_country_field,
    parse_employees,
    parse_founded_year,
    parse_list,
    parse_location,
    website_and_domain,
)
from firmscout.entities import CompanyProfile, employee_bucket, merge_companies

ORIGIN = "pytickersymbols"
_MAX_DESCRIBED_INDUSTRIES = 4


@dataclass
class BuiltinLoad:
    records: list[CompanyProfile]
    stocks: int = 0
    skipped: Counter[str] = field(default_factory=Counter)


def load_builtin() -> BuiltinLoad:
    """Every stock pytickersymbols knows, as one record per registered domain."""
    from pytickersymbols import PyTickerSymbols  # imported here: parsing its bundled data is slow

    return clean_stocks(PyTickerSymbols().get_all_stocks())


def clean_stocks(stocks: Iterable[Mapping[str, Any]]) -> BuiltinLoad:
    by_domain: dict[str, CompanyProfile] = {}
    load = BuiltinLoad(records=[])
    for stock in stocks:
        load.stocks += 1
        record, reason = stock_record(stock)
        if record is None:
            load.skipped[reason or "unusable"] += 1
            continue
        if record.domain in by_domain:
            # Share classes of one company (GOOG / GOOGL) are separate stocks with one website.
            load.skipped["duplicate domain (merged)"] += 1
            record = merge_companies(by_domain[record.domain], record)
        by_domain[record.domain] = record
    load.records = list(by_domain.values())
    return load


def _industries(values: object) -> tuple[str, ...]:
    # The data repeats an industry in different case ("Financial Services", "Financial services").
    seen: dict[str, str] = {}
    for industry in parse_list(values):
        seen.setdefault(industry.casefold(), industry)
    return tuple(seen.values())


def stock_record(stock: Mapping[str, Any]) -> tuple[CompanyProfile | None, str | None]:
    """One pytickersymbols stock → (record, None), or (None, why it was skipped)."""
    meta: Mapping[str, Any] = stock.get("metadata") or {}
    name = clean_text(stock.get("name"))
    if name is None:
        return None, "no name"
    if clean_text(meta.get("website")) is None:
        return None, "no website"
    website, domain = website_and_domain(meta.get("website"))
    if website is None or domain is None:
        return None, "website is not a domain"
    place = _place(stock.get("country"), meta.get("headquarters"))
    industries = _industries(stock.get("industries"))
    employees = parse_employees(meta.get("employees"))
    founded = parse_founded_year(meta.get("founded"))
    products = clean_text(meta.get("products"))
    revenue = clean_text(meta.get("revenue"))
    record = CompanyProfile(
        domain=domain,
        name=name,
        website=website,
        country=place.country,
        state=place.state,
        city=place.city,
        industries=industries,
        products=products,
        founded_year=founded,
        employees=employees,
        employee_count=employee_bucket(employees),
        revenue=revenue,
        wikipedia_url=clean_text(meta.get("wikipedia_url")),
        status="Public",
        origin=ORIGIN,
    )
    return replace(record, description=describe(record), full_description=describe_fully(record)), None


def _place(country_field: object, headquarters: object) -> Location:
    listed = location_from_country_field(country_field)
    hq = parse_location(headquarters)
    country = listed.country or hq.country
    # The headquarters text is more precise, but only if it names the same country (or none).
    same = hq.country in (None, country)
    return Location(
        city=listed.city or (hq.city if same else None),
        state=listed.state or (hq.state if same else None),
        country=country,
    )


def _where(record: CompanyProfile) -> str:
    return ", ".join(p for p in (record.city, record.state, record.country) if p)


def describe(record: CompanyProfile) -> str:
    """One line stating only what the data says: listed company, its industries and where it sits."""
    text = "Publicly listed company"
    if record.industries:
        text += f" ({', '.join(record.industries[:_MAX_DESCRIBED_INDUSTRIES])})"
    where = _where(record)
    if where:
        text += f" headquartered in {where}"
    return text + "."


def describe_fully(record: CompanyProfile) -> str:
    sentences = [f"{record.name}: {describe(record)}"]
    if record.founded_year:
        sentences.append(f"Founded in {record.founded_year}.")
    if record.employees:
        sentences.append(f"About {record.employees:,} employees.")
    if record.revenue:
        sentences.append(f"Revenue: {record.revenue}.")
    if record.products:
        sentences.append(f"Products: {record.products}.")
    return " ".join(sentences)
