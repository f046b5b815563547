"""Frozen value types shared by pipeline stages and adapters (bottom layer: every layer may use them)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

# The spec's employee-size buckets (Extruct search filters), smallest first.
EMPLOYEE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("1-10", 1, 10),
    ("11-50", 11, 50),
    ("51-200", 51, 200),
    ("201-500", 201, 500),
    ("501-1000", 501, 1000),
    ("1001-5000", 1001, 5000),
    ("5001-10000", 5001, 10000),
    ("10001+", 10001, None),
)


def employee_bucket(employees: int | None) -> str | None:
    if employees is None or employees < 1:
        return None
    for label, low, high in EMPLOYEE_BUCKETS:
        if employees >= low and (high is None or employees <= high):
            return label
    return None


# The spec's limits on a caller's criteria; the API validates them and the planners write within them.
CRITERION_KEY_PATTERN = r"^[A-Za-z][A-Za-z0-9_]*$"
CRITERION_KEY_MAX = 64
CRITERION_NAME_MIN, CRITERION_NAME_MAX = 1, 100
CRITERION_TEXT_MIN, CRITERION_TEXT_MAX = 10, 500
CRITERIA_MAX_COUNT = 10
# Criteria a planner infers at most, after Extruct's advice of "up to 5 criteria".
INFERRED_CRITERIA_MAX = 5


@dataclass(frozen=True)
class Criterion:
    key: str
    name: str
    criterion: str

    def to_dict(self) -> dict[str, str]:
        return {"key": self.key, "name": self.name, "criterion": self.criterion}


@dataclass(frozen=True)
class Passage:
    """Text from a page a grader may quote, and the page it is on."""

    url: str
    text: str


@dataclass(frozen=True)
class CompanyProfile:
    """One company, as imports write it, the company database stores it and the pipeline grades it."""

    domain: str
    name: str
    description: str | None = None
    full_description: str | None = None
    website: str | None = None
    country: str | None = None  # English short name, e.g. "Spain"
    state: str | None = None
    city: str | None = None
    industries: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    products: str | None = None
    founded_year: int | None = None
    employees: int | None = None
    employee_count: str | None = None  # one of EMPLOYEE_BUCKETS' labels
    revenue: str | None = None
    status: str | None = None
    wikipedia_url: str | None = None
    linkedin_url: str | None = None
    # Where the profile came from: the company database's "builtin", "import:FILE"; "hit" for a source's
    # name and snippet alone (a search result's title), which the company's own website may correct.
    origin: str = "import"
    # A local business's street address and phone, as a maps listing gives them (not stored in the database).
    address: str | None = None
    phone: str | None = None
    # URLs the profile's facts come from; graders cite them.
    sources: tuple[str, ...] = ()
    # What the company's own website says, page by page (empty when it was not read).
    passages: tuple[Passage, ...] = ()
    # How reading the website went: "read", or why not (robots, blocked, unreachable, budget…); None: not tried.
    web_status: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        for key in ("industries", "tags", "sources"):
            data[key] = list(data[key])
        data["passages"] = [{"url": p.url, "text": p.text} for p in self.passages]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CompanyProfile:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        for key in ("industries", "tags", "sources"):
            known[key] = tuple(known.get(key) or ())
        known["passages"] = tuple(Passage(str(p["url"]), str(p["text"])) for p in known.get("passages") or ())
        return cls(**known)


def merge_companies(older: CompanyProfile, newer: CompanyProfile) -> CompanyProfile:
    """Two records of one company: `newer` wins field by field, but never erases a known value.

    Listings of one company on several exchanges each carry part of its data (one has the industry,
    another the city), so keeping the last one alone would throw facts away.
    """
    changes: dict[str, Any] = {}
    for name in _COMPANY_FIELDS:
        new_value = getattr(newer, name)
        if name in _LIST_FIELDS:
            changes[name] = tuple(dict.fromkeys((*new_value, *getattr(older, name))))
        elif new_value is None or new_value == "":
            changes[name] = getattr(older, name)
    return replace(newer, **changes)


_COMPANY_FIELDS = tuple(f.name for f in fields(CompanyProfile))
_LIST_FIELDS = ("industries", "tags", "sources", "passages")


@dataclass(frozen=True)
class SourceHit:
    """One candidate as a data source returned it."""

    domain: str  # registered domain
    name: str
    source: str  # data source name on the wire: "extruct_db", "web_search", ...
    url: str | None = None
    snippet: str | None = None
    # Sources that already hold a full profile (the local company database) return it here.
    profile: CompanyProfile | None = None
    company_id: int | None = None


@dataclass(frozen=True)
class Grade:
    grade: int  # 1..5
    explanation: str
    sources: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"grade": self.grade, "explanation": self.explanation, "sources": list(self.sources)}


@dataclass(frozen=True)
class TokenUsage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(self.prompt_tokens + other.prompt_tokens, self.completion_tokens + other.completion_tokens)


@dataclass(frozen=True)
class Graded:
    """A grader's answer for a batch: one {criterion key: Grade} per profile, and what it cost."""

    grades: list[dict[str, Grade]]
    usage: TokenUsage = field(default_factory=TokenUsage)


@dataclass(frozen=True)
class Constraints:
    """Structured constraints recognised in a query or criterion; empty fields mean "no constraint"."""

    countries: tuple[str, ...] = ()  # English short names, as CompanyProfile.country
    cities: tuple[str, ...] = ()
    states: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()  # industry / product focus phrases, already normalised ("bank", ...)
    min_employees: int | None = None
    max_employees: int | None = None
    founded_after: int | None = None  # inclusive
    founded_before: int | None = None  # inclusive
    # Company status as directories record it: "active", "inactive", "acquired", "public".
    statuses: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.__dict__.items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Constraints:
        known: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in cls.__dataclass_fields__
        }
        return cls(**known)


@dataclass(frozen=True)
class Plan:
    """What the plan stage decided: the criteria to grade and how to search."""

    criteria: tuple[Criterion, ...]
    constraints: Constraints
    # Words to send to full-text sources (synonyms already expanded), best first.
    search_terms: tuple[str, ...] = ()
    criteria_inferred: bool = True
    # Extra phrases an LLM proposed (synonyms, related industries), searched besides `search_terms`.
    expansion_terms: tuple[str, ...] = ()
    # "local" (the rule-based parser alone) or "llm:<model>" once an LLM refined the plan; a plan is
    # refined at most once, so a re-run never asks the model again.
    planned_by: str = "local"
    # The company a relationship query names ("competitors of Stripe"), once found in the company database.
    reference: CompanyProfile | None = None
    # What web search sources ask their provider, in order (`pipeline/local/searches.py`).
    web_searches: tuple[str, ...] = ()

    @property
    def all_search_terms(self) -> tuple[str, ...]:
        return self.search_terms + tuple(t for t in self.expansion_terms if t not in self.search_terms)

    def to_dict(self) -> dict[str, Any]:
        return {
            "criteria": [c.to_dict() for c in self.criteria],
            "constraints": self.constraints.to_dict(),
            "search_terms": list(self.search_terms),
            "criteria_inferred": self.criteria_inferred,
            "expansion_terms": list(self.expansion_terms),
            "planned_by": self.planned_by,
            "reference": self.reference.to_dict() if self.reference is not None else None,
            "web_searches": list(self.web_searches),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        return cls(
            criteria=tuple(Criterion(**c) for c in data["criteria"]),
            constraints=Constraints.from_dict(data["constraints"]),
            search_terms=tuple(data.get("search_terms", ())),
            criteria_inferred=bool(data.get("criteria_inferred", True)),
            expansion_terms=tuple(data.get("expansion_terms", ())),
            planned_by=str(data.get("planned_by", "local")),
            reference=CompanyProfile.from_dict(data["reference"]) if data.get("reference") else None,
            web_searches=tuple(data.get("web_searches", ())),
        )


@dataclass(frozen=True)
class PlanDraft:
    """An LLM's reading of a query, as the model wrote it (not yet validated against our vocabularies):
    criteria (empty when the caller gave theirs), constraints with country names as written, and extra
    search terms. `pipeline.stages.plan` validates it and merges it into the local plan."""

    criteria: tuple[Criterion, ...]
    constraints: Constraints
    search_terms: tuple[str, ...]
    model: str
    usage: TokenUsage = field(default_factory=TokenUsage)
    web_searches: tuple[str, ...] = ()  # further queries for a web search engine


@dataclass(frozen=True)
class SearchRequest:
    """What a source is asked for: free text plus the structured constraints it may use as filters."""

    query: str
    terms: tuple[str, ...]
    constraints: Constraints = field(default_factory=Constraints)
    # Set for a relationship query: sources that can rank lookalikes of it do so instead of matching terms.
    reference: CompanyProfile | None = None
    # The plan's web searches, for sources that ask a search engine, and how many requests the task has left.
    searches: tuple[str, ...] = ()
    searches_left: int | None = None
    # Pages the task may still fetch: a source reading result pages (lists, profiles) stops at none.
    pages_left: int | None = None
