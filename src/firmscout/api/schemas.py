"""Wire models, field names exactly as shared/spec/extruct-deep-search.md."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, StringConstraints, field_validator

from firmscout.config import Settings
from firmscout.entities import (
    CRITERIA_MAX_COUNT,
    CRITERION_KEY_MAX,
    CRITERION_KEY_PATTERN,
    CRITERION_NAME_MAX,
    CRITERION_NAME_MIN,
    CRITERION_TEXT_MAX,
    CRITERION_TEXT_MIN,
    Criterion,
)
from firmscout.storage.views import ResultView, TaskView
from firmscout.tasks.service import NewTask

TaskStatus = Literal["created", "in_progress", "done", "failed"]


class DataSource(StrEnum):
    web_search = "web_search"
    extruct_db = "extruct_db"
    company_db = "company_db"  # accepted alias of extruct_db; never emitted
    linkedin = "linkedin"
    maps = "maps"


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _storable(text: str) -> str:
    # PostgreSQL refuses NUL in text and UTF-8 has no lone surrogates: refused here, the same on both databases.
    if _UNSTORABLE.search(text):
        raise ValueError("must not contain NUL characters or unpaired UTF-16 surrogates (\\u0000, \\ud800-\\udfff)")
    return text


# Text a request may store: anything printable or not, but what both databases can keep.
Storable = AfterValidator(_storable)
# Counts are whole numbers: JSON true, 5.0 or "5" is not a count.
Count = StrictInt


class StrictModel(BaseModel):
    # Unknown fields are a 422, as the spec's "unsupported fields" requires.
    model_config = ConfigDict(extra="forbid")


class CriterionIn(StrictModel):
    key: Annotated[str, StringConstraints(pattern=CRITERION_KEY_PATTERN, max_length=CRITERION_KEY_MAX)]
    name: Annotated[str, StringConstraints(min_length=CRITERION_NAME_MIN, max_length=CRITERION_NAME_MAX), Storable]
    criterion: Annotated[
        str, StringConstraints(min_length=CRITERION_TEXT_MIN, max_length=CRITERION_TEXT_MAX), Storable
    ]


class TableConfig(StrictModel):
    id: uuid.UUID
    run: bool = False
    columns: list[uuid.UUID] | None = None
    auto_import: bool = False


class CreateDiscoveryTask(StrictModel):
    query: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), Storable]
    desired_num_results: Count = Field(100, ge=1, le=250)
    table: TableConfig | None = None
    auto_data_sources: bool = True
    data_sources: list[DataSource] = Field(default_factory=list, max_length=4)
    criteria: list[CriterionIn] | None = Field(None, max_length=CRITERIA_MAX_COUNT)
    exclude_domains: list[Annotated[str, StringConstraints(max_length=2048), Storable]] = Field(
        default_factory=list, max_length=5000
    )
    exclude_task_ids: list[uuid.UUID] = Field(default_factory=list, max_length=100)
    notify: bool | None = Field(None, description="Legacy flag; accepted and ignored.")
    budget: TaskBudget | None = None
    webhook: WebhookIn | None = None

    def new_task(self) -> NewTask:
        """The task this request asks for: the API, the web app and the MCP server create through here."""
        return NewTask(
            query=self.query,
            desired_num_results=self.desired_num_results,
            auto_data_sources=self.auto_data_sources,
            data_sources=[s.value for s in self.data_sources],
            criteria=[Criterion(**c.model_dump()) for c in self.criteria] if self.criteria else None,
            exclude_domains=self.exclude_domains,
            exclude_task_ids=[str(i) for i in self.exclude_task_ids],
            table_id=str(self.table.id) if self.table else None,
            search_budget=self.budget.search_requests if self.budget else None,
            page_budget=self.budget.pages_fetched if self.budget else None,
            token_budget=self.budget.total_tokens if self.budget else None,
            webhook_url=self.webhook.url if self.webhook else None,
            webhook_secret=self.webhook.secret if self.webhook else None,
        )

    @field_validator("criteria")
    @classmethod
    def _unique_keys(cls, value: list[CriterionIn] | None) -> list[CriterionIn] | None:
        if value is not None:
            keys = [c.key for c in value]
            dupes = sorted({k for k in keys if keys.count(k) > 1})
            if dupes:
                raise ValueError(f"criterion keys must be unique; repeated: {', '.join(dupes)}")
            if not value:
                raise ValueError("criteria must not be empty; omit it to have criteria inferred from the query")
        return value


def _webhook_url(url: str) -> str:
    # Only the shape is checked here; whether the host may be reached is the guard's call at delivery time.
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute http:// or https:// URL with a host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not carry credentials; sign with `secret` instead")
    return url


class WebhookIn(StrictModel):
    """Where to POST `task.completed` and `task.failed` (an added field, not in the Extruct spec); each body is
    signed with `secret`: `X-Firmscout-Signature: sha256=HEX(HMAC-SHA256(secret, "{X-Firmscout-Timestamp}.{body}"))`."""

    url: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2048), Storable,
                   AfterValidator(_webhook_url)]
    secret: Annotated[str, StringConstraints(min_length=16, max_length=256), Storable]


class WebhookOut(BaseModel):
    url: str
    status: str | None = Field(None, description="null until sent; `delivered`, or `failed: <why>`.")
    attempts: int = 0


class TaskBudget(StrictModel):
    """Caps on what one task may spend (an added field, not in the Extruct spec); unset: the server's settings.
    Each counts from the create, and again from each resume: a task that stopped with `budget_exhausted`
    continues on resume with the same budgets again, while `usage` keeps counting everything."""

    search_requests: Count | None = Field(
        None, ge=0, le=10_000,
        description="Requests to the web search provider (FIRMSCOUT_WEB__SEARCHES_PER_TASK); when spent, "
                    "discovery through web search stops.",
    )
    pages_fetched: Count | None = Field(
        None, ge=0, le=100_000,
        description="Web pages fetched (cache hits are free; FIRMSCOUT_WEB__PAGES_PER_TASK); past them candidates "
                    "are graded without their website.",
    )
    total_tokens: Count | None = Field(
        None, ge=0, le=1_000_000_000,
        description="LLM prompt and completion tokens (FIRMSCOUT_LLM__TOKENS_PER_TASK); when spent, grading stops "
                    "and the task ends with what it graded.",
    )


class ResumeDiscoveryTask(StrictModel):
    desired_new_results: Count = Field(25, ge=0, le=250)


class CriterionOut(BaseModel):
    key: str
    name: str
    criterion: str


class Score(BaseModel):
    grade: int
    explanation: str
    sources: list[str]


@dataclass(frozen=True)
class Prices:
    """What the server pays its providers (FIRMSCOUT_WEB__SEARCH_PRICE_USD, FIRMSCOUT_LLM__PRICE_*_USD_PER_M);
    None where unknown."""

    search_request_usd: float | None = None
    input_usd_per_m: float | None = None
    output_usd_per_m: float | None = None

    @classmethod
    def of(cls, settings: Settings) -> Prices:
        return cls(settings.web.search_price_usd, settings.llm.price_input_usd_per_m,
                   settings.llm.price_output_usd_per_m)

    def cost(self, task: TaskView) -> float | None:
        """The task's estimated cost in USD from its stored counters; None when no price is set."""
        if self.search_request_usd is None and self.input_usd_per_m is None and self.output_usd_per_m is None:
            return None
        usd = ((task.search_requests or 0) * (self.search_request_usd or 0.0)
               + (task.prompt_tokens or 0) * (self.input_usd_per_m or 0.0) / 1e6
               + (task.completion_tokens or 0) * (self.output_usd_per_m or 0.0) / 1e6)
        return round(usd, 6)


class Usage(BaseModel):
    """What the task spent (an added field): LLM tokens (0 with the local method), web pages fetched and their
    bytes (cache hits are free), requests to the web search provider."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    pages_fetched: int = 0
    bytes_fetched: int = 0
    search_requests: int = 0
    estimated_cost_usd: float | None = Field(
        None,
        description="An added field, not in the Extruct spec: search requests and LLM tokens at the server's "
                    "configured prices (FIRMSCOUT_WEB__SEARCH_PRICE_USD, FIRMSCOUT_LLM__PRICE_INPUT_USD_PER_M, "
                    "FIRMSCOUT_LLM__PRICE_OUTPUT_USD_PER_M); null when none is set. Page fetches are not priced.",
    )
    cost_per_result_usd: float | None = Field(
        None,
        description="An added field, not in the Extruct spec: estimated_cost_usd / num_results; null without a "
                    "price or a result.",
    )

    @classmethod
    def of(cls, task: TaskView, prices: Prices) -> Usage:
        cost = prices.cost(task)
        per_result = round(cost / task.num_results, 6) if cost is not None and task.num_results else None
        prompt, completion = task.prompt_tokens or 0, task.completion_tokens or 0
        return cls(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion,
                   pages_fetched=task.pages_fetched or 0, bytes_fetched=task.web_bytes or 0,
                   search_requests=task.search_requests or 0, estimated_cost_usd=cost, cost_per_result_usd=per_result)


class CandidatesRemoved(BaseModel):
    """Why candidates did not become results (an added field, not in the Extruct spec)."""

    considered: int = Field(0, description="Candidates that reached a verdict: graded, or dropped by the pre-filter.")
    by_criterion: dict[str, int] = Field(
        default_factory=dict,
        description="Per criterion key, the candidates it failed: a grade below 4, or a clear miss on known data "
        "(place, size, founding year, status) before grading. A candidate failed by two criteria counts for both.",
    )
    duplicates: int = Field(0, description="Candidates whose website turned out to be another candidate's.")


class DiscoveryTaskOut(BaseModel):
    id: str
    created_at: datetime
    status: TaskStatus
    query: str
    desired_num_results: int
    is_exhausted: bool = False
    num_results_discovered: int = 0
    num_results_enriched: int = 0
    num_results_evaluated: int = 0
    num_results: int = 0
    table_id: str | None = None
    auto_data_sources: bool = True
    data_sources: list[str] = Field(default_factory=list)
    criteria: list[CriterionOut] = Field(default_factory=list)
    exclude_domains: list[str] = Field(default_factory=list)
    stop_reason: Literal[
        "target_reached", "exhausted", "budget_exhausted", "source_failed", "cancelled", "failed"] | None = None
    error: str | None = None
    usage: Usage = Field(default_factory=lambda: Usage())
    warnings: list[str] = Field(
        default_factory=list,
        description="An added field, not in the Extruct spec: what the search providers reported beside their "
                    "results (e.g. a SearXNG engine that did not answer), each once, at most 20.",
    )
    candidates_removed: CandidatesRemoved = Field(
        default_factory=lambda: CandidatesRemoved(),
        description="An added field, not in the Extruct spec: how many candidates each criterion removed, of "
        "those considered, e.g. {\"considered\": 6, \"by_criterion\": {\"industry_focus\": 6, \"geography\": 2}, "
        "\"duplicates\": 0}. It explains an empty or short result list.",
    )
    webhook: WebhookOut | None = Field(
        None, description="An added field, not in the Extruct spec: the create's webhook (never its secret) and "
                          "how its delivery went.",
    )

    @classmethod
    def from_row(cls, task: TaskView, prices: Prices | None = None) -> DiscoveryTaskOut:
        """`prices`: the server's, for `usage.estimated_cost_usd` (None: no price known)."""
        return cls(
            id=task.id,
            created_at=_utc(task.created_at),
            status=task.status,
            query=task.query,
            desired_num_results=task.desired_num_results,
            is_exhausted=task.is_exhausted,
            num_results_discovered=task.num_results_discovered,
            num_results_enriched=task.num_results_enriched,
            num_results_evaluated=task.num_results_evaluated,
            num_results=task.num_results,
            table_id=task.table_id,
            auto_data_sources=task.auto_data_sources,
            data_sources=list(task.data_sources),
            criteria=[CriterionOut(**c) for c in task.criteria],
            exclude_domains=list(task.exclude_domains),
            stop_reason=task.stop_reason,
            error=task.error,
            usage=Usage.of(task, prices or Prices()),
            warnings=list(task.warnings or ()),
            candidates_removed=CandidatesRemoved(**(task.candidates_removed or {})),
            webhook=WebhookOut(url=task.webhook_url, status=task.webhook_status, attempts=task.webhook_attempts)
            if task.webhook_url else None,
        )


def task_render(settings: Settings) -> Callable[[TaskView], dict[str, Any]]:
    """The task as GET returns it, as JSON: what a webhook's body carries (the worker gets it injected)."""
    prices = Prices.of(settings)
    return lambda task: DiscoveryTaskOut.from_row(task, prices).model_dump(mode="json")


class DiscoveryTaskResult(BaseModel):
    id: str
    task_id: str
    company_name: str
    company_description: str | None
    company_website: str
    relevance: int
    created_at: datetime
    company_profile_id: str | None
    source: str
    scores: dict[str, Score]
    founding_year: int | None
    employee_count: str | None
    hq_country: str | None
    hq_state_province: str | None
    hq_city: str | None
    company_full_description: str | None

    @classmethod
    def from_row(cls, row: ResultView) -> DiscoveryTaskResult:
        profile = row.profile or {}
        return cls(
            id=row.id,
            task_id=row.task_id,
            company_name=profile.get("name") or row.domain,
            company_description=profile.get("description"),
            company_website=row.domain,
            relevance=row.relevance or 0,
            created_at=_utc(row.created_at),
            company_profile_id=str(row.company_id) if row.company_id is not None else None,
            source=row.source,
            scores={k: Score(**v) for k, v in (row.scores or {}).items()},
            founding_year=profile.get("founded_year"),
            employee_count=profile.get("employee_count"),
            hq_country=profile.get("country"),
            hq_state_province=profile.get("state"),
            hq_city=profile.get("city"),
            company_full_description=profile.get("full_description"),
        )


class DiscoveryTaskResults(DiscoveryTaskOut):
    results: list[DiscoveryTaskResult]


class UserOut(BaseModel):
    user_id: str
    email: str
    available_credits: int
    organization_id: str | None
    organization_name: str | None
    organization_slug: str | None
    organization_is_active: bool | None


class ErrorDetail(BaseModel):
    detail: str


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the `{"detail": "..."}` errors a route can return."""
    meaning = {400: "Not allowed in the task's current state", 401: "Missing or invalid token",
               403: "Belongs to another organization", 404: "Not found in your workspace",
               413: "Request body too large", 429: "Too many task creations (see Retry-After)"}
    return {code: {"model": ErrorDetail, "description": meaning[code]} for code in codes}


class Health(BaseModel):
    status: str
    version: str


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; every timestamp we store is UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
