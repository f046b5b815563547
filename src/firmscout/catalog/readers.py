"""Stream company records out of CSV and JSON Lines files (optionally gzipped), one row at a time."""

from __future__ import annotations

import csv
import gzip
import io
import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from firmscout.catalog.cleaning import (
    clean_text,
    location_from_country_field,
    parse_employees,
    parse_founded_year,
    parse_list,
    parse_location,
    state_name,
    website_and_domain,
)
from firmscout.domains import registered_domain
from firmscout.entities import EMPLOYEE_BUCKETS, CompanyProfile, employee_bucket
from firmscout.errors import ImportFailed

# FIELD names a --map may use. `industry` and `tags` are lists: several columns may feed them.
# `location` is free text ("Austin, TX", "London, United Kingdom") that fills city/state/country gaps.
CANONICAL_FIELDS = (
    "name",
    "website",
    "domain",
    "description",
    "full_description",
    "country",
    "state",
    "city",
    "location",
    "industry",
    "tags",
    "products",
    "founded_year",
    "employees",
    "employee_count",
    "revenue",
    "linkedin_url",
    "wikipedia_url",
    "status",
)
LIST_FIELDS = frozenset({"industry", "tags"})
_CSV_SUFFIXES = {".csv": ",", ".tsv": "\t"}
_JSONL_SUFFIXES = {".jsonl", ".ndjson"}
_BUCKET_LABELS = {label for label, _, _ in EMPLOYEE_BUCKETS}
_MAX_ORIGIN = 100

Row = Mapping[str, Any]
FieldMap = dict[str, list[str]]
ReadResult = tuple[CompanyProfile | None, str | None]


def parse_mapping(pairs: Sequence[str]) -> FieldMap:
    """`["name=company_name", "industry=sector,industry"]` → {"name": ["company_name"], ...}.

    A FIELD given twice collects the columns of both pairs, in order.
    """
    mapping: FieldMap = {}
    valid = ", ".join(CANONICAL_FIELDS)
    for pair in pairs:
        field, sep, columns = pair.partition("=")
        field = field.strip().lower()
        names = [c.strip() for c in columns.split(",") if c.strip()]
        if not sep or not field or not names:
            raise ImportFailed(f"Bad --map {pair!r}: write FIELD=COLUMN[,COLUMN...], e.g. name=company_name.")
        if field not in CANONICAL_FIELDS:
            raise ImportFailed(f"Unknown FIELD {field!r} in --map {pair!r}: use one of {valid}.")
        mapping.setdefault(field, []).extend(names)
    return mapping


def _file_format(path: Path) -> tuple[str, bool]:
    suffixes = [s.lower() for s in path.suffixes]
    compressed = bool(suffixes) and suffixes[-1] == ".gz"
    if compressed:
        suffixes = suffixes[:-1]
    last = suffixes[-1] if suffixes else ""
    if last in _CSV_SUFFIXES or last in _JSONL_SUFFIXES:
        return last, compressed
    raise ImportFailed(
        f"Cannot tell the format of {path.name!r}: name it .csv, .tsv, .jsonl or .ndjson (optionally + .gz)."
    )


def _open_text(path: Path, compressed: bool) -> IO[str]:
    # utf-8-sig: spreadsheet exports often start with a byte-order mark that would rename column one.
    if compressed:
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return path.open(encoding="utf-8-sig", newline="")


def _check_columns(mapping: FieldMap, columns: Sequence[str], path: Path) -> None:
    missing = sorted({c for cols in mapping.values() for c in cols} - set(columns))
    if missing:
        raise ImportFailed(
            f"{path.name} has no column {', '.join(map(repr, missing))}: its columns are "
            f"{', '.join(columns)}. Fix the --map."
        )


def default_mapping(columns: Sequence[str]) -> FieldMap:
    """Without a --map, columns named like canonical fields map to themselves."""
    return {c: [c] for c in columns if c in CANONICAL_FIELDS}


def read_rows(path: Path) -> Iterator[Row | None]:
    """Raw rows of a CSV/TSV/JSON Lines file; None stands for a line that is not a JSON object."""
    suffix, compressed = _file_format(path)
    try:
        with _open_text(path, compressed) as handle:
            if suffix in _CSV_SUFFIXES:
                # Long descriptions exceed csv's default field size limit.
                csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
                yield from csv.DictReader(handle, delimiter=_CSV_SUFFIXES[suffix])
                return
            for line in handle:
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError:
                    yield None
                    continue
                yield obj if isinstance(obj, dict) else None
    except (OSError, EOFError, UnicodeDecodeError, csv.Error) as exc:
        raise ImportFailed(f"Cannot read {path}: {exc}. Check that it is a UTF-8 CSV or JSON Lines file.") from exc


def read_records(path: Path, mapping: FieldMap | None = None) -> Iterator[ReadResult]:
    """Yield (record, None) per usable row and (None, reason) per skipped one, streaming the file.

    Without `mapping`, columns named like canonical fields are used. Raises `ImportFailed` before
    the first record if a CSV lacks a mapped column.
    """
    origin = f"import:{path.name}"[:_MAX_ORIGIN]
    is_csv = _file_format(path)[0] in _CSV_SUFFIXES
    active = mapping
    first = True
    for row in read_rows(path):
        if row is None:
            yield None, "not a JSON object"
            continue
        if first:
            first = False
            if active is None:
                active = default_mapping(list(row))
            elif is_csv:
                _check_columns(active, list(row), path)
            if "name" not in active:
                raise ImportFailed(f"{path.name}: no column for 'name': pass --map name=COLUMN.")
        assert active is not None
        yield row_record(row, active, origin=origin)


def _first(row: Row, columns: Sequence[str]) -> Any:
    for column in columns:
        value = row.get(column)
        if isinstance(value, list | tuple):
            if value:
                return value
        elif clean_text(value) is not None:
            return value
    return None


def _text(row: Row, mapping: FieldMap, field: str) -> str | None:
    # What `clean_text(_first(...))` gives, cleaning each value once: collapsing a long description is costly.
    for column in mapping.get(field, ()):
        value = row.get(column)
        if isinstance(value, list | tuple):
            if value:
                return "; ".join(parse_list(value)) or None
            continue
        text = clean_text(value)
        if text is not None:
            return text
    return None


def _list(row: Row, mapping: FieldMap, field: str) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for column in mapping.get(field, ()):
        for item in parse_list(row.get(column)):
            seen.setdefault(item, None)
    return tuple(seen)


def row_record(row: Row, mapping: FieldMap, *, origin: str = "import") -> ReadResult:
    """One raw row → (record, None) or (None, why it was skipped)."""
    name = _text(row, mapping, "name")
    if name is None:
        return None, "no name"
    website, site_domain = website_and_domain(_text(row, mapping, "website"))
    raw_domain = _text(row, mapping, "domain")
    if raw_domain is None and website is None:
        return None, "no website or domain"
    domain = registered_domain(raw_domain) if raw_domain else site_domain
    if domain is None:
        return None, "unparseable domain"

    listed = location_from_country_field(_text(row, mapping, "country"))
    place = parse_location(_text(row, mapping, "location"))
    country = listed.country or place.country
    # A free-text location's state only counts if it is in the same country ("Berlin, DE" is not Delaware).
    same_country = place.country in (None, country)
    employees = parse_employees(_first(row, mapping.get("employees", ())))
    bucket = _text(row, mapping, "employee_count")
    if bucket not in _BUCKET_LABELS:
        employees = employees or parse_employees(bucket)
        bucket = employee_bucket(employees)

    record = CompanyProfile(
        domain=domain,
        name=name,
        website=website,
        description=_text(row, mapping, "description"),
        full_description=_text(row, mapping, "full_description"),
        country=country,
        state=state_name(_text(row, mapping, "state"), country)
        or listed.state
        or (place.state if same_country else None),
        city=_text(row, mapping, "city") or listed.city or place.city,
        industries=_list(row, mapping, "industry"),
        tags=_list(row, mapping, "tags"),
        products=_text(row, mapping, "products"),
        founded_year=parse_founded_year(_first(row, mapping.get("founded_year", ()))),
        employees=employees,
        employee_count=bucket,
        revenue=_text(row, mapping, "revenue"),
        wikipedia_url=_text(row, mapping, "wikipedia_url"),
        linkedin_url=_text(row, mapping, "linkedin_url"),
        status=_text(row, mapping, "status"),
        origin=origin,
    )
    return record, None
