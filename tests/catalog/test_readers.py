"""File readers: CSV, TSV and JSON Lines, plain or gzipped, with and without a --map."""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from firmscout.catalog.readers import CANONICAL_FIELDS, parse_mapping, read_records
from firmscout.entities import CompanyProfile
from firmscout.errors import ImportFailed

YC_HEADER = ["company_id", "company_name", "short_description", "tags", "location", "country", "year_founded",
             "team_size", "website", "linkedin_url", "status"]
YC_ROWS = [
    ["1", "K-Scale Labs", "Open-source humanoid robots", "['robotics', 'consumer']", "New York", "US", "2024.0",
     "3.0", "https://kscale.dev/", "https://www.linkedin.com/company/kscale/", "Active"],
    ["2", "Nowhere Inc", "No site", "[]", "", "US", "2020.0", "", "https://", "", "Inactive"],
    ["3", "", "Nameless", "[]", "", "GB", "", "", "https://nameless.io", "", "Active"],
    ["4", "Lifted", "Two sites", "['hr-tech']", "Austin, TX", "US", "", "12.0",
     "https://www.lifted.work, http://www.nudgelabs.com", "", "Active"],
    ["5", "Brit Ltd", "London startup", "['fintech']", "London, United Kingdom", "GB", "2019.0", "45.0",
     "brit.co.uk", "", "Acquired"],
]
YC_MAP = [
    "name=company_name", "description=short_description", "tags=tags", "location=location", "country=country",
    "founded_year=year_founded", "employees=team_size", "website=website", "linkedin_url=linkedin_url",
    "status=status",
]


def write_csv(path: Path, header: list[str], rows: list[list[str]], *, delimiter: str = ",") -> Path:
    opener: Any = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_jsonl(path: Path, lines: list[Any]) -> Path:
    opener: Any = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", encoding="utf-8") as handle:
        for line in lines:
            handle.write((line if isinstance(line, str) else json.dumps(line)) + "\n")
    return path


def records(results: Iterator[tuple[CompanyProfile | None, str | None]]) -> tuple[list[CompanyProfile], list[str]]:
    good: list[CompanyProfile] = []
    skipped: list[str] = []
    for record, reason in results:
        if record is None:
            assert reason
            skipped.append(reason)
        else:
            good.append(record)
    return good, skipped


class TestMapping:
    def test_parses_pairs_and_lists(self) -> None:
        assert parse_mapping(["name=company_name", "industry=sector, industry_group", "industry=industry"]) == {
            "name": ["company_name"],
            "industry": ["sector", "industry_group", "industry"],
        }

    def test_unknown_field_lists_valid_ones(self) -> None:
        with pytest.raises(ImportFailed) as caught:
            parse_mapping(["sector=sector"])
        assert "'sector'" in caught.value.message
        assert all(field in caught.value.message for field in CANONICAL_FIELDS)

    @pytest.mark.parametrize("pair", ["name", "=col", "name=", "name= , "])
    def test_malformed_pair_shows_the_form(self, pair: str) -> None:
        with pytest.raises(ImportFailed, match="FIELD=COLUMN"):
            parse_mapping([pair])


class TestCsv:
    @pytest.mark.parametrize("name", ["yc.csv", "yc.csv.gz"])
    def test_yc_style_file(self, tmp_path: Path, name: str) -> None:
        path = write_csv(tmp_path / name, YC_HEADER, YC_ROWS)
        good, skipped = records(read_records(path, parse_mapping(YC_MAP)))
        assert sorted(skipped) == ["no name", "no website or domain"]
        kscale, lifted, brit = good
        assert kscale == CompanyProfile(
            domain="kscale.dev", name="K-Scale Labs", website="https://kscale.dev/",
            description="Open-source humanoid robots", country="United States", city="New York",
            tags=("robotics", "consumer"), founded_year=2024, employees=3, employee_count="1-10",
            linkedin_url="https://www.linkedin.com/company/kscale/", status="Active", origin=f"import:{name}",
        )
        assert (lifted.domain, lifted.website) == ("lifted.work", "https://www.lifted.work")
        assert (lifted.city, lifted.state, lifted.country) == ("Austin", "Texas", "United States")
        assert (lifted.employees, lifted.employee_count) == (12, "11-50")
        assert (brit.domain, brit.country, brit.city, brit.website) == (
            "brit.co.uk", "United Kingdom", "London", "https://brit.co.uk",
        )

    def test_several_columns_feed_one_list_field(self, tmp_path: Path) -> None:
        path = write_csv(
            tmp_path / "eq.csv",
            ["name", "summary", "sector", "industry_group", "industry", "country", "state", "city", "website"],
            [
                ["Aalberts N.V.", "Tech company.", "Industrials", "Capital Goods", "Machinery", "Netherlands", "",
                 "Utrecht", "http://www.aalberts.com"],
                ["Blank Industry", "", "Financials", "", "", "United States", "NY", "New York", "www.kkr.com"],
            ],
        )
        mapping = parse_mapping(["name=name", "description=summary", "industry=industry,industry_group,sector",
                                 "country=country", "state=state", "city=city", "website=website"])
        (aalberts, kkr), skipped = records(read_records(path, mapping))
        assert skipped == []
        assert aalberts.industries == ("Machinery", "Capital Goods", "Industrials")
        assert aalberts.description == "Tech company."
        assert kkr.industries == ("Financials",) and kkr.description is None
        assert (kkr.state, kkr.country) == ("New York", "United States")

    def test_without_map_uses_canonical_column_names(self, tmp_path: Path) -> None:
        path = write_csv(
            tmp_path / "plain.csv",
            ["name", "website", "country", "industry", "employee_count", "founded_year", "extra"],
            [["Acme", "acme.com", "DE", "Widgets; Tools", "51-200", "1999", "ignored"]],
        )
        (acme,), _ = records(read_records(path))
        assert (acme.country, acme.industries, acme.employee_count, acme.founded_year) == (
            "Germany", ("Widgets", "Tools"), "51-200", 1999,
        )

    def test_domain_column_wins_over_website(self, tmp_path: Path) -> None:
        path = write_csv(tmp_path / "d.csv", ["name", "domain", "website"], [
            ["Acme", "shop.acme.co.uk", "https://acme-landing.com"],
            ["Junk", "not a domain", ""],
        ])
        (acme,), skipped = records(read_records(path))
        assert acme.domain == "acme.co.uk" and acme.website == "https://acme-landing.com"
        assert skipped == ["unparseable domain"]

    def test_tsv_and_byte_order_mark(self, tmp_path: Path) -> None:
        path = tmp_path / "x.tsv"
        path.write_bytes("\ufeffname\twebsite\nAcme\tacme.com\n".encode())
        (acme,), _ = records(read_records(path))
        assert acme.domain == "acme.com"

    def test_mapped_column_missing_from_header(self, tmp_path: Path) -> None:
        path = write_csv(tmp_path / "x.csv", ["name", "website"], [["Acme", "acme.com"]])
        with pytest.raises(ImportFailed, match=r"no column 'company_name'.*name, website"):
            list(read_records(path, parse_mapping(["name=company_name"])))

    def test_no_name_column_without_map(self, tmp_path: Path) -> None:
        path = write_csv(tmp_path / "x.csv", ["company_name", "website"], [["Acme", "acme.com"]])
        with pytest.raises(ImportFailed, match="--map name=COLUMN"):
            list(read_records(path))

    def test_huge_field(self, tmp_path: Path) -> None:
        path = write_csv(tmp_path / "x.csv", ["name", "website", "description"], [["A", "a.com", "x" * 300_000]])
        (a,), _ = records(read_records(path))
        assert a.description is not None and len(a.description) == 300_000

    def test_streams_lazily(self, tmp_path: Path) -> None:
        path = write_csv(tmp_path / "x.csv", ["name", "website"], [[f"C{i}", f"c{i}.com"] for i in range(1000)])
        results = read_records(path)
        first, _ = next(results)
        assert first is not None and first.domain == "c0.com"


class TestJsonLines:
    @pytest.mark.parametrize("name", ["c.jsonl", "c.ndjson", "c.jsonl.gz"])
    def test_lists_numbers_and_bad_lines(self, tmp_path: Path, name: str) -> None:
        path = write_jsonl(tmp_path / name, [
            {"title": "Acme", "url": "https://www.acme.com", "sectors": ["Tools", "Widgets"], "cc": "FR",
             "staff": "approx. 1,200", "since": 1999.0},
            "not json",
            [1, 2],
            "",
            {"title": "NoSite", "sectors": "['x']"},
        ])
        mapping = parse_mapping(["name=title", "website=url", "industry=sectors", "country=cc",
                                 "employees=staff", "founded_year=since"])
        good, skipped = records(read_records(path, mapping))
        assert skipped == ["not a JSON object", "not a JSON object", "no website or domain"]
        (acme,) = good
        assert (acme.domain, acme.industries, acme.country, acme.employees, acme.employee_count, acme.founded_year) == (
            "acme.com", ("Tools", "Widgets"), "France", 1200, "1001-5000", 1999,
        )


def test_unknown_extension(tmp_path: Path) -> None:
    path = tmp_path / "companies.xlsx"
    path.write_text("x")
    with pytest.raises(ImportFailed, match=r"\.csv, \.tsv, \.jsonl"):
        list(read_records(path))


def test_corrupt_gzip(tmp_path: Path) -> None:
    path = tmp_path / "companies.csv.gz"
    path.write_bytes(b"definitely not gzip")
    with pytest.raises(ImportFailed, match="Cannot read"):
        list(read_records(path))
