"""A task's results as the web app shows and exports them: filtered, sorted, and flattened to CSV.

Rows are the API's own result model, so the page, the JSON export and GET …/results say the same things.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from firmscout.api.schemas import CriterionOut, DiscoveryTaskResult, Score

# Relevance is 0-100; the filter offers these floors.
RELEVANCE_FLOORS = (50, 60, 70, 80, 90)
SORTS = {"relevance": "Relevance", "name": "Name", "country": "Country", "founded": "Founded"}
_MAX_QUERY = 200


@dataclass(frozen=True)
class View:
    """How the results are narrowed and ordered; read leniently from the page's query string."""

    q: str = ""
    country: str = ""
    min_relevance: int = 0
    sort: str = "relevance"  # a key of SORTS, or "grade:<criterion key>"
    descending: bool = True

    @classmethod
    def read(cls, params: Mapping[str, str], criteria: Sequence[CriterionOut]) -> View:
        sort = params.get("sort", "relevance")
        grade_sorts = {f"grade:{c.key}" for c in criteria}
        if sort not in SORTS and sort not in grade_sorts:
            sort = "relevance"
        minimum = params.get("min_relevance", "")
        return cls(
            q=params.get("q", "").strip()[:_MAX_QUERY],
            country=params.get("country", "").strip()[:_MAX_QUERY],
            min_relevance=int(minimum) if minimum.isdigit() and int(minimum) <= 100 else 0,
            sort=sort,
            # Names and countries read best A→Z, grades and relevance best first, unless asked otherwise.
            descending=params.get("dir", "asc" if sort in ("name", "country") else "desc") == "desc",
        )

    def query_string(self) -> dict[str, str]:
        """The non-default parts, for links that keep this view (export, live refresh)."""
        out = {"q": self.q, "country": self.country, "min_relevance": str(self.min_relevance or ""),
               "sort": "" if self.sort == "relevance" else self.sort}
        default_desc = self.sort not in ("name", "country")
        if self.descending != default_desc:
            out["dir"] = "desc" if self.descending else "asc"
        return {k: v for k, v in out.items() if v}

    def apply(self, results: Sequence[DiscoveryTaskResult]) -> list[DiscoveryTaskResult]:
        needle = self.q.casefold()
        kept = [
            r for r in results
            if r.relevance >= self.min_relevance
            and (not self.country or (r.hq_country or "").casefold() == self.country.casefold())
            and (not needle or needle in _haystack(r))
        ]
        # Python's sort is stable: equal keys keep the task's own order (best first).
        if self.sort != "relevance" or not self.descending:
            kept.sort(key=self._key, reverse=self.descending)
            # Unknown values (no country, no founding year) go last whichever way the list is ordered.
            kept.sort(key=lambda r: self._key(r)[0] == 1)
        return kept

    def _key(self, r: DiscoveryTaskResult) -> tuple[int, str | int]:
        if self.sort == "name":
            return 0, r.company_name.casefold()
        if self.sort == "country":
            return (0, r.hq_country.casefold()) if r.hq_country else (1, "")
        if self.sort == "founded":
            return (0, r.founding_year) if r.founding_year is not None else (1, 0)
        if self.sort.startswith("grade:"):
            score = r.scores.get(self.sort.removeprefix("grade:"))
            return (0, score.grade) if score is not None else (1, 0)
        return 0, r.relevance


def _haystack(r: DiscoveryTaskResult) -> str:
    return " ".join(filter(None, (r.company_name, r.company_website, r.company_description, r.hq_city))).casefold()


@dataclass(frozen=True)
class Grade:
    """One criterion's grade of one result, as its chip and its explanation show it (None: not graded)."""

    name: str
    grade: int | None
    explanation: str
    links: tuple[str, ...]  # sources that are web addresses
    other_sources: tuple[str, ...]


@dataclass(frozen=True)
class Row:
    """A result laid out for the page: computed here once, so the template only prints."""

    result: DiscoveryTaskResult
    place: str
    grades: tuple[Grade, ...]


def rows(results: Sequence[DiscoveryTaskResult], criteria: Sequence[CriterionOut]) -> list[Row]:
    return [
        Row(r, ", ".join(p for p in (r.hq_city, r.hq_state_province, r.hq_country) if p) or "Place unknown",
            tuple(_grade(c, r.scores.get(c.key)) for c in criteria))
        for r in results
    ]


def _grade(criterion: CriterionOut, score: Score | None) -> Grade:
    if score is None:
        return Grade(criterion.name, None, "", (), ())
    links = tuple(u for u in score.sources if u.startswith(("https://", "http://")))
    return Grade(criterion.name, score.grade, score.explanation, links,
                 tuple(u for u in score.sources if u not in links))


def countries(results: Sequence[DiscoveryTaskResult]) -> list[str]:
    return sorted({r.hq_country for r in results if r.hq_country}, key=str.casefold)


def to_csv(results: Sequence[DiscoveryTaskResult], criteria: Sequence[CriterionOut]) -> str:
    """One row a company; per criterion its grade, explanation and sources (space-separated URLs)."""
    out = io.StringIO()
    writer = csv.writer(out)
    head = ["company_name", "company_website", "relevance", "hq_country", "hq_state_province", "hq_city",
            "founding_year", "employee_count", "company_description", "source"]
    for c in criteria:
        head += [f"{c.key}_grade", f"{c.key}_explanation", f"{c.key}_sources"]
    writer.writerow(head)
    for r in results:
        row: list[object] = [r.company_name, r.company_website, r.relevance, r.hq_country, r.hq_state_province,
                             r.hq_city, r.founding_year, r.employee_count, r.company_description, r.source]
        for c in criteria:
            score = r.scores.get(c.key)
            row += [score.grade, score.explanation, " ".join(score.sources)] if score else ["", "", ""]
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A cell a spreadsheet would run as a formula (CSV injection) is written as text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
