"""What the API shows of a task and its results: the view types, and the statements every reader runs.

Each dialect module has one reader (`TaskReader`) that runs these statements its cheapest way; the
statements are built once, with bind parameters, so their SQL is written here only.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Integer, Select, bindparam, select

from firmscout.storage.tables import Candidate, DiscoveryTask


@dataclass(frozen=True)
class TaskView:
    """A task as create, get, list and resume return it."""

    id: str
    created_at: datetime
    status: str
    query: str
    desired_num_results: int
    is_exhausted: bool
    num_results_discovered: int
    num_results_enriched: int
    num_results_evaluated: int
    num_results: int
    table_id: str | None
    auto_data_sources: bool
    data_sources: list[Any]
    criteria: list[Any]
    exclude_domains: list[Any]
    stop_reason: str | None
    error: str | None
    prompt_tokens: int
    completion_tokens: int
    pages_fetched: int
    web_bytes: int
    search_requests: int
    # storage/removals.Removals as JSON; None on tasks older than the tally.
    candidates_removed: dict[str, Any] | None
    # What the search providers reported beside their results; None on tasks older than migration 0014.
    warnings: list[Any] | None = None
    # The create's webhook (never its secret) and how its delivery went; None without one (migration 0016).
    webhook_url: str | None = None
    webhook_status: str | None = None
    webhook_attempts: int = 0


@dataclass(frozen=True)
class ResultView:
    """One visible result of a task."""

    id: str
    task_id: str
    domain: str
    source: str
    company_id: int | None
    profile: dict[str, Any] | None
    scores: dict[str, Any] | None
    relevance: int | None
    created_at: datetime


@dataclass(frozen=True)
class TaskResults:
    """A task and one page of its results, read in one snapshot."""

    task: TaskView
    results: list[ResultView]


class TaskReader(Protocol):
    """Reads scoped to the caller's workspace: members of an organization see its tasks, a user without one
    sees their own. None means not found (or not theirs)."""

    async def task(self, task_id: str, *, organization_id: str | None, user_id: str) -> TaskView | None: ...

    async def tasks(self, *, organization_id: str | None, user_id: str, offset: int, limit: int) -> list[TaskView]:
        """Newest first."""
        ...

    async def results(
        self, task_id: str, *, organization_id: str | None, user_id: str, offset: int, limit: int
    ) -> TaskResults | None: ...

    async def close(self) -> None: ...


_TASK_COLUMNS = [DiscoveryTask.__table__.c[f.name] for f in fields(TaskView)]
_RESULT_COLUMNS = [Candidate.__table__.c[f.name] for f in fields(ResultView)]
_BY_ORG = DiscoveryTask.organization_id == bindparam("organization_id")
_BY_USER = DiscoveryTask.user_id == bindparam("user_id")


def _one_task(scope: ColumnElement[bool]) -> Select[Any]:
    return select(*_TASK_COLUMNS).where(DiscoveryTask.id == bindparam("task_id"), scope)


def _task_list(scope: ColumnElement[bool]) -> Select[Any]:
    return (
        select(*_TASK_COLUMNS)
        .where(scope)
        .order_by(DiscoveryTask.created_at.desc(), DiscoveryTask.id.desc())
        .offset(bindparam("offset", type_=Integer))
        .limit(bindparam("limit", type_=Integer))
    )


# One statement per tenancy rule, so a reader can prepare each once.
TASK_BY_ORG, TASK_BY_USER = _one_task(_BY_ORG), _one_task(_BY_USER)
TASKS_BY_ORG, TASKS_BY_USER = _task_list(_BY_ORG), _task_list(_BY_USER)
# Best first; ties go to the stronger evidence, then the more prominent company (pipeline/local/ranking.py),
# then the domain: a total order that depends on what was graded only, never on the order of discovery, so
# the same input gives the same order. The index ix_candidate_task_visible_rank has these columns in this order.
RESULTS_PAGE = (
    select(*_RESULT_COLUMNS)
    .where(Candidate.task_id == bindparam("task_id"), Candidate.is_high_fit.is_(True))
    .order_by(Candidate.relevance.desc(), Candidate.evidence.desc(), Candidate.prominence.desc(), Candidate.domain)
    .offset(bindparam("offset", type_=Integer))
    .limit(bindparam("limit", type_=Integer))
)


def scope_params(organization_id: str | None, user_id: str) -> dict[str, Any]:
    return {"user_id": user_id} if organization_id is None else {"organization_id": organization_id}


def task_statement(organization_id: str | None) -> Select[Any]:
    return TASK_BY_USER if organization_id is None else TASK_BY_ORG


def tasks_statement(organization_id: str | None) -> Select[Any]:
    return TASKS_BY_USER if organization_id is None else TASKS_BY_ORG


def task_view(row: Any) -> TaskView:
    return TaskView(*row)


def result_view(row: Any) -> ResultView:
    return ResultView(*row)


def view_of_task(task: DiscoveryTask) -> TaskView:
    """An ORM row (a task just written) as its view."""
    return TaskView(*(getattr(task, f.name) for f in fields(TaskView)))
