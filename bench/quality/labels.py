"""Labelling rules as code: predicates over the structured fields and text of company records.

They read the same records the importer writes (country names canonical, industries/tags as lists), but
never Firmscout's query parser or grader, so the benchmark is not scoring the method against itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from firmscout.entities import CompanyProfile

Rule = Callable[[CompanyProfile], bool]

EUROPE = {
    "Austria", "Belgium", "Bulgaria", "Croatia", "Cyprus", "Czech Republic", "Denmark", "Estonia", "Finland",
    "France", "Germany", "Greece", "Hungary", "Ireland", "Italy", "Latvia", "Lithuania", "Luxembourg", "Malta",
    "Netherlands", "Poland", "Portugal", "Romania", "Slovakia", "Slovenia", "Spain", "Sweden", "United Kingdom",
    "Norway", "Switzerland", "Iceland", "Liechtenstein", "Monaco",
}
NORDICS = {"Sweden", "Norway", "Denmark", "Finland", "Iceland"}
LATAM = {"Mexico", "Brazil", "Argentina", "Chile", "Colombia", "Peru", "Uruguay", "Ecuador", "Costa Rica",
         "Guatemala", "Venezuela", "Bolivia", "Paraguay", "Panama", "Dominican Republic"}


def ind(*words: str) -> Rule:
    pattern = re.compile("|".join(words), re.I)
    return lambda r: any(pattern.search(i) for i in r.industries)


def tag(*tags: str) -> Rule:
    wanted = set(tags)
    return lambda r: bool(wanted & {t.lower() for t in r.tags})


def text(*words: str) -> Rule:
    pattern = re.compile(r"\b(" + "|".join(words) + r")", re.I)
    return lambda r: bool(pattern.search(" ".join(filter(None, (r.name, r.description, r.full_description)))))


def lead(*words: str) -> Rule:
    """Words in what a record says first about the company (its name and the first two sentences of its
    description), where directories state what it does; a later mention is often a customer or a partner."""
    pattern = re.compile(r"\b(" + "|".join(words) + r")", re.I)

    def rule(r: CompanyProfile) -> bool:
        opening = ". ".join((r.description or "").split(". ")[:2])
        return bool(pattern.search(f"{r.name} {opening}"))
    return rule


def country(*names: str) -> Rule:
    wanted = set(names)
    return lambda r: r.country in wanted


def city(*names: str) -> Rule:
    """Headquarters in one of these cities, as the record spells it (give every spelling: "Bengaluru", "Bangalore")."""
    wanted = {n.lower() for n in names}
    return lambda r: (r.city or "").lower() in wanted


def region(names: set[str]) -> Rule:
    return lambda r: r.country in names


def state(*names: str) -> Rule:
    wanted = {n.lower() for n in names}
    return lambda r: (r.state or "").lower() in wanted


def founded(before: int | None = None, since: int | None = None) -> Rule:
    def rule(r: CompanyProfile) -> bool:
        y = r.founded_year
        return y is not None and (before is None or y < before) and (since is None or y >= since)
    return rule


def staff(over: int | None = None, under: int | None = None) -> Rule:
    def rule(r: CompanyProfile) -> bool:
        n = r.employees
        return n is not None and (over is None or n > over) and (under is None or n < under)
    return rule


def status(*values: str) -> Rule:
    return lambda r: (r.status or "") in values


def not_(rule: Rule) -> Rule:
    return lambda r: not rule(r)


def all_of(*rules: Rule) -> Rule:
    return lambda r: all(rule(r) for rule in rules)


def any_of(*rules: Rule) -> Rule:
    return lambda r: any(rule(r) for rule in rules)


@dataclass(frozen=True)
class Query:
    corpus: str  # "builtin" | "yc" | "fd"
    text: str
    rule: Rule
    held_out: bool  # never tuned on; reported separately
    set: str = "existing"  # "existing" (structured phrasing) | "everyday" (as people type)
    # A relationship query ("competitors of Stripe"): answered by the lookalike ranker, reported apart.
    relationship: bool = False
