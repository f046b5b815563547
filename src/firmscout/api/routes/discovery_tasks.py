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

router = APIRouter(prefix="/v1/discovery_tasks", tags=["company-discovery"])
# Deeper than any real list; keeps offsets inside the 64-bit integers databases accept.
MAX_OFFSET = 10_000_000


async def prices(request: Request) -> Prices:
    """The server's prices, for the task's estimated cost (settings are fixed for the process)."""
    return Prices.of(runtime(request).settings)


PricesDep = Annotated[Prices, Depends(prices)]


@router.post("", response_model=DiscoveryTaskOut, summary="Create Discovery Task",
             responses=error_responses(400, 401, 403, 404, 413, 429))
async def create_discovery_task(
    body: CreateDiscoveryTask, caller: CallerDep, service: ServiceDep, request: Request, cost: PricesDep
) -> DiscoveryTaskOut:
    # The caller spends from its create budget (429 past it) only once the whole request proved valid.
    task = await service.create(caller, body.new_task(), quota=request.app.state.create_quota)
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
