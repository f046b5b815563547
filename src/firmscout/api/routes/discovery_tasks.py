"""/v1/discovery_tasks: create, list, get, results, resume, cancel (an added endpoint)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request

from firmscout.api.deps import CallerDep, ServiceDep, runtime
from firmscout.api.schemas import (
    CreateDiscoveryTask,
    DiscoveryTaskOut,
    DiscoveryTaskResult,
    DiscoveryTaskResults,
    Prices,
    ResumeDiscoveryTask,
    error_responses,
)
from firmscout.entities import Criterion
from firmscout.tasks.service import NewTask

router = APIRouter(prefix="/v1/discovery_tasks", tags=["company-discovery"])
# Deeper than any real list; keeps offsets inside the 64-bit integers databases accept.
MAX_OFFSET = 10_000_000


async def prices(request: Request) -> Prices:
    """The server's prices, for the task's estimated cost (settings are fixed for the process)."""
    return Prices.of(runtime(request).settings)


PricesDep = Annotated[Prices, Depends(prices)]


def new_task(body: CreateDiscoveryTask) -> NewTask:
    """The task a valid create request asks for (the web app's form makes the same request)."""
    return NewTask(
        query=body.query,
        desired_num_results=body.desired_num_results,
        auto_data_sources=body.auto_data_sources,
        data_sources=[s.value for s in body.data_sources],
        criteria=[Criterion(**c.model_dump()) for c in body.criteria] if body.criteria else None,
        exclude_domains=body.exclude_domains,
        exclude_task_ids=[str(i) for i in body.exclude_task_ids],
        table_id=str(body.table.id) if body.table else None,
        search_budget=body.budget.search_requests if body.budget else None,
        page_budget=body.budget.pages_fetched if body.budget else None,
        token_budget=body.budget.total_tokens if body.budget else None,
        webhook_url=body.webhook.url if body.webhook else None,
        webhook_secret=body.webhook.secret if body.webhook else None,
    )


@router.post("", response_model=DiscoveryTaskOut, summary="Create Discovery Task",
             responses=error_responses(400, 401, 403, 404, 413, 429))
async def create_discovery_task(
    body: CreateDiscoveryTask, caller: CallerDep, service: ServiceDep, request: Request, cost: PricesDep
) -> DiscoveryTaskOut:
    # The caller spends from its create budget (429 past it) only once the whole request proved valid.
    task = await service.create(caller, new_task(body), quota=request.app.state.create_quota)
    return DiscoveryTaskOut.from_row(task, cost)


@router.get("", response_model=list[DiscoveryTaskOut], summary="List Discovery Tasks",
            responses=error_responses(401))
async def list_discovery_tasks(
    caller: CallerDep,
    service: ServiceDep,
    cost: PricesDep,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> list[DiscoveryTaskOut]:
    return [DiscoveryTaskOut.from_row(t, cost) for t in await service.list(caller, offset=offset, limit=limit)]


@router.get("/{task_id}", response_model=DiscoveryTaskOut, summary="Get Discovery Task",
            responses=error_responses(401, 404))
async def get_discovery_task(
    task_id: str, caller: CallerDep, service: ServiceDep, cost: PricesDep
) -> DiscoveryTaskOut:
    return DiscoveryTaskOut.from_row(await service.get(caller, task_id), cost)


@router.get("/{task_id}/results", response_model=DiscoveryTaskResults, summary="Get Discovery Task Results",
            responses=error_responses(401, 404))
async def get_discovery_task_results(
    task_id: str,
    caller: CallerDep,
    service: ServiceDep,
    cost: PricesDep,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    limit: Annotated[int, Query(ge=1, le=250)] = 50,
) -> DiscoveryTaskResults:
    page = await service.results(caller, task_id, offset=offset, limit=limit)
    task = DiscoveryTaskOut.from_row(page.task, cost)
    return DiscoveryTaskResults(**task.model_dump(), results=[DiscoveryTaskResult.from_row(r) for r in page.results])


@router.post("/{task_id}/resume", response_model=DiscoveryTaskOut, summary="Resume Discovery Task",
             responses=error_responses(400, 401, 404, 413))
async def resume_discovery_task(
    task_id: str,
    caller: CallerDep,
    service: ServiceDep,
    cost: PricesDep,
    body: Annotated[ResumeDiscoveryTask | None, Body()] = None,
) -> DiscoveryTaskOut:
    """Raise the target and continue; the task's budgets count again from here (a task that stopped with
    `budget_exhausted` goes on with the same budgets again). A task whose sources ran dry is refused."""
    desired_new = (body or ResumeDiscoveryTask()).desired_new_results
    return DiscoveryTaskOut.from_row(await service.resume(caller, task_id, desired_new), cost)


@router.post("/{task_id}/cancel", response_model=DiscoveryTaskOut, summary="Cancel Discovery Task",
             responses=error_responses(401, 404))
async def cancel_discovery_task(
    task_id: str, caller: CallerDep, service: ServiceDep, cost: PricesDep
) -> DiscoveryTaskOut:
    """Stop a task at its next step (an added endpoint): what it found stays readable, `stop_reason` is
    `cancelled`, and resume starts it again. A task already done or failed is returned as it is."""
    return DiscoveryTaskOut.from_row(await service.cancel(caller, task_id), cost)
