"""A small, real-looking company set for API tests (facts as in the built-in database)."""

from __future__ import annotations

from firmscout.entities import CompanyProfile
from tests.factories import company

BANKS = ("Banks", "Financials", "Financial services")

SPANISH_BANKS = [
    company("bbva.com", "BBVA", country="Spain", city="Bilbao", industries=BANKS, founded_year=1857,
            employees=125_000, employee_count="10001+", description="Spanish multinational bank",
            wikipedia_url="https://en.wikipedia.org/wiki/BBVA"),
    company("caixabank.com", "CaixaBank", country="Spain", city="Valencia", industries=BANKS,
            founded_year=2011, employees=44_000, employee_count="10001+",
            description="Spanish financial services company", wikipedia_url="https://en.wikipedia.org/wiki/CaixaBank"),
    company("bankinter.com", "Bankinter", country="Spain", city="Madrid", industries=BANKS, founded_year=1965,
            employees=6_000, employee_count="5001-10000", description="Spanish bank",
            wikipedia_url="https://en.wikipedia.org/wiki/Bankinter"),
]

OTHERS = [
    company("db.com", "Deutsche Bank", country="Germany", city="Frankfurt", industries=BANKS,
            founded_year=1870, employees=90_000, employee_count="10001+", description="German bank"),
    company("telefonica.com", "Telefónica", country="Spain", city="Madrid",
            industries=("Telecommunications",), founded_year=1924, description="Spanish telecom operator"),
    company("iberdrola.com", "Iberdrola", country="Spain", city="Bilbao", industries=("Utilities", "Electricity"),
            founded_year=1992, description="Spanish electric utility"),
    company("basf.com", "BASF", country="Germany", city="Ludwigshafen", industries=("Chemicals",),
            founded_year=1865, employees=111_000, employee_count="10001+", description="German chemical company"),
]

ALL: list[CompanyProfile] = SPANISH_BANKS + OTHERS
