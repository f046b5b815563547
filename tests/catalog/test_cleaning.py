"""Cleaners against the messy strings real company datasets contain."""

from __future__ import annotations

import pytest

from firmscout.catalog.cleaning import (
    Location,
    clean_text,
    country_name,
    location_from_country_field,
    normalize_country,
    parse_employees,
    parse_founded_year,
    parse_int,
    parse_list,
    parse_location,
    state_name,
    website_and_domain,
)


class TestEmployees:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("3,167 (average, 2021)", 3167),
            ("c.250 (2024)", 250),
            ("c. 60,500 (2025)", 60500),
            ("approx. 120,000", 120000),
            ("Approximately 2,000", 2000),
            ("approx. 4,200 (November 2025)", 4200),
            ("1.2 million", 1_200_000),
            ("2 million (2023)", 2_000_000),
            ("14.046 (December 2022)", 14046),  # European thousands separator
            ("3 500", 3500),
            ("360,000+ (2025)", 360000),
            (">4,100 (2023)", 4100),
            ("> 53,000 (2025)", 53000),
            ("~500 (2020)", 500),
            ("≈7,000 (2022)", 7000),
            ("About 8,400 (2024)", 8400),
            ("30,000 (FTE 2021) 600,000 workers (2021)", 30000),
            ("6,000 - 8,000 (2022)", 6000),
            ("10,000 employees as of February 22, 2022", 10000),
            ("15,614 ( FTE , 2019)", 15614),
            ("8,300 Globally", 8300),
            ("2135", 2135),
            ("3.0", 3),  # YC team_size float string
            (9600, 9600),
            (12.0, 12),
        ],
    )
    def test_parses(self, text: object, expected: int) -> None:
        assert parse_employees(text) == expected

    @pytest.mark.parametrize("text", ["", "  ", None, "n/a", "unknown", "nan", 0, "0", float("nan"), True])
    def test_unknown_is_none(self, text: object) -> None:
        assert parse_employees(text) is None


class TestFoundedYear:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("1988 ; 38 years ago ( 1988 )", 1988),
            ("1865 ; 161 years ago", 1865),
            ("May 1, 1951 ; 74 years ago ( 1951-05-01 )", 1951),
            ("5 August 2003 ; 22 years ago ( 2003-08-05 )", 2003),
            ("Osaki, Tokyo, Japan (October 25, 1918 ; 107 years ago ( 1918-10-25 ) )", 1918),
            ("1963 ; 63 years ago ( 1963 ) in Lowell, Massachusetts , U.S.", 1963),
            ("June 1, 1948 ( 1948-06-01 ) in Shinjuku, Tokyo , Japan", 1948),
            ("c. 1602", 1602),
            ("2024.0", 2024),
            (2011, 2011),
            (2011.0, 2011),
        ],
    )
    def test_parses(self, text: object, expected: int) -> None:
        assert parse_founded_year(text) == expected

    @pytest.mark.parametrize("text", ["1500", "3000", "in the 90s", "", None, 1200, "12 years ago"])
    def test_implausible_or_missing_is_none(self, text: object) -> None:
        assert parse_founded_year(text) is None

    def test_future_year_is_rejected(self) -> None:
        assert parse_founded_year("2031", this_year=2026) is None
        assert parse_founded_year("2031 (planned) ; 2020", this_year=2026) == 2020


class TestCountry:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("Spain", "Spain"),
            ("spain", "Spain"),
            ("UK", "United Kingdom"),
            ("England", "United Kingdom"),
            ("Scotland", "United Kingdom"),
            ("USA", "United States"),
            ("U.S.", "United States"),
            ("U.S.A.", "United States"),
            ("United States of America", "United States"),
            ("US", "United States"),
            ("DE", "Germany"),
            ("GB", "United Kingdom"),
            ("DEU", "Germany"),
            ("The Netherlands", "Netherlands"),
            ("South Korea", "South Korea"),
            ("Russian Federation", "Russia"),
            ("Czechia", "Czech Republic"),
            ("Türkiye", "Turkey"),
            ("Taiwan, Province of China", "Taiwan"),
            ("Viet Nam", "Vietnam"),
            ("Ivory Coast", "Côte d'Ivoire"),
            ("Cayman Islands", "Cayman Islands"),
        ],
    )
    def test_names_and_codes(self, text: str, expected: str) -> None:
        assert country_name(text) == expected
        assert normalize_country(text) == expected

    def test_unknown_text_is_kept_by_normalize_only(self) -> None:
        assert country_name("Netherlands Antilles") is None
        assert normalize_country("  Netherlands   Antilles ") == "Netherlands Antilles"
        assert normalize_country("") is None


class TestLocation:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("Montabaur , Germany", Location("Montabaur", None, "Germany")),
            ("London , England, UK", Location("London", None, "United Kingdom")),
            ("London , England", Location("London", None, "United Kingdom")),
            ("Santa Clara, California , U.S.", Location("Santa Clara", "California", "United States")),
            ("Atlanta , Georgia , United States", Location("Atlanta", "Georgia", "United States")),
            ("Woonsocket, Rhode Island", Location("Woonsocket", "Rhode Island", "United States")),
            ("Austin, TX", Location("Austin", "Texas", "United States")),
            ("Toronto, Ontario", Location("Toronto", "Ontario", "Canada")),
            ("Marunouchi , Chiyoda , Tokyo, Japan", Location("Tokyo", None, "Japan")),
            ("Quai d'Orsay , 7th arrondissement , Paris , France", Location("Paris", None, "France")),
            ("Bilbao and Madrid , Spain", Location("Bilbao", None, "Spain")),
            (
                "St. Louis, Missouri , U.S. (operational) Geneva , Switzerland (legal)",
                Location("St. Louis", "Missouri", "United States"),
            ),
            (
                "Valencia , Spain (registered office) Barcelona , Spain (operations office)",
                Location("Valencia", None, "Spain"),
            ),
            ("Worblaufen , Ittigen ( canton of Bern ), Switzerland", Location("Ittigen", None, "Switzerland")),
            ("Antwerp", Location("Antwerp", None, None)),
            ("Hamilton, Bermuda", Location("Hamilton", None, "Bermuda")),
            ("Nihonbashi Muromachi 2-1-1, Chūō, Tokyo On the registration Headquarter: Tokyo Kita", Location()),
            ("", Location()),
            (None, Location()),
        ],
    )
    def test_headquarters(self, text: str | None, expected: Location) -> None:
        assert parse_location(text) == expected

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("Houston, Texas", Location("Houston", "Texas", "United States")),
            ("New York City, New York", Location("New York City", "New York", "United States")),
            ("Dublin, Ireland", Location("Dublin", None, "Ireland")),
            ("Georgia", Location(None, None, "Georgia")),  # alone it is the country
            ("Spain", Location(None, None, "Spain")),
            ("US", Location(None, None, "United States")),
            (None, Location()),
        ],
    )
    def test_country_field_that_is_a_place(self, text: str | None, expected: Location) -> None:
        assert location_from_country_field(text) == expected

    def test_state_codes_spelled_out_only_in_their_country(self) -> None:
        assert state_name("NY", "United States") == "New York"
        assert state_name("ON", "Canada") == "Ontario"
        assert state_name("Bavaria", "Germany") == "Bavaria"
        assert state_name("NY", "Germany") == "NY"
        assert state_name(" ", "United States") is None


class TestWebsite:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("www.bbva.com", ("https://www.bbva.com", "bbva.com")),
            ("https://kscale.dev/", ("https://kscale.dev/", "kscale.dev")),
            ("http://www.aalberts.com", ("http://www.aalberts.com", "aalberts.com")),
            ("www.agc.com /english /index.html", ("https://www.agc.com", "agc.com")),
            ("bmwgroup.com (corporate) bmw.com (brand)", ("https://bmwgroup.com", "bmwgroup.com")),
            ("adva.com at the Wayback Machine (archived 2020-03-11)", ("https://adva.com", "adva.com")),
            ("https://www.lifted.work, http://www.nudgelabs.com", ("https://www.lifted.work", "lifted.work")),
            ("investors.example.co.uk/profile", ("https://investors.example.co.uk/profile", "example.co.uk")),
        ],
    )
    def test_first_site_wins(self, text: str, expected: tuple[str, str]) -> None:
        assert website_and_domain(text) == expected

    @pytest.mark.parametrize("text", ["https://", "http://", "Official website", "", None, "http://url", "localhost"])
    def test_no_site(self, text: str | None) -> None:
        assert website_and_domain(text) == (None, None)


class TestListsAndScalars:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("['artificial-intelligence', 'machine-learning']", ("artificial-intelligence", "machine-learning")),
            ('["fintech", "saas"]', ("fintech", "saas")),
            ("[]", ()),
            ("Banks; Financial services", ("Banks", "Financial services")),
            ("Banks | Banks", ("Banks",)),
            ("Machinery, Equipment & Components", ("Machinery, Equipment & Components",)),
            ("[not a list", ("[not a list",)),
            (["a", " a ", None, "b"], ("a", "b")),
            (None, ()),
            ("", ()),
        ],
    )
    def test_parse_list(self, value: object, expected: tuple[str, ...]) -> None:
        assert parse_list(value) == expected

    def test_literal_eval_is_not_code_execution(self) -> None:
        assert parse_list("[__import__('os').system('true')]") == ("[__import__('os').system('true')]",)

    @pytest.mark.parametrize(
        ("value", "expected"),
        [("2024.0", 2024), ("2,024", 2024), (7, 7), (3.9, 3), ("", None), ("abc", None), (None, None)],
    )
    def test_parse_int(self, value: object, expected: int | None) -> None:
        assert parse_int(value) == expected

    def test_clean_text(self) -> None:
        assert clean_text("  Acme \n Corp  ") == "Acme Corp"
        assert clean_text("NaN") is None
        assert clean_text(None) is None
        assert clean_text(42) == "42"
