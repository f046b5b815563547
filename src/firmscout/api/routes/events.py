"""GET /v1/discovery_tasks/{id}/events: a task's live events as Server-Sent Events (an added endpoint)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import StreamingResponse

from firmscout.api.deps import CallerDep, ServiceDep, runtime
from firmscout.api.routes.discovery_tasks import PricesDep
from firmscout.api.schemas import DiscoveryTaskOut, DiscoveryTaskResult, Prices, error_responses
from firmscout.errors import NotFound
from firmscout.tasks import events
from firmscout.tasks.accounts import Caller
from firmscout.tasks.service import TaskService

router = APIRouter(prefix="/v1/discovery_tasks", tags=["company-discovery"])


class TaskFeed:
    """The task and its results as GET …/{id} and GET …/{id}/results show them, in the caller's scope."""

    def __init__(self, service: TaskService, caller: Caller, task_id: str, cost: Prices) -> None:
        self._service, self._caller, self._task_id, self._cost = service, caller, task_id, cost

    async def task(self) -> events.JSON:
        return DiscoveryTaskOut.from_row(await self._service.get(self._caller, self._task_id), self._cost).model_dump(
            mode="json")

    async def results(self) -> tuple[events.JSON, list[events.JSON]]:
        page = await self._service.all_results(self._caller, self._task_id)
        task = DiscoveryTaskOut.from_row(page.task, self._cost).model_dump(mode="json")
        return task, [DiscoveryTaskResult.from_row(r).model_dump(mode="json") for r in page.results]


async def _body(feed: TaskFeed, cursor: events.Cursor, poll_s: float) -> AsyncIterator[str]:
    try:
        async for chunk in events.watch(feed, cursor, poll_s=poll_s):
            yield chunk
    except NotFound:
        return  # the task was deleted while watched: nothing more will come


@router.get(
    "/{task_id}/events",
    summary="Stream Discovery Task Events",
    response_class=StreamingResponse,
    responses={**error_responses(401, 404), 200: {"content": {"text/event-stream": {}},
                                                   "description": "A stream of Server-Sent Events."}},
)
async def stream_discovery_task_events(
    task_id: str,
    caller: CallerDep,
    service: ServiceDep,
    cost: PricesDep,
    request: Request,
    last_event_id: Annotated[str | None, Header()] = None,
) -> StreamingResponse:
    """The task's changes as Server-Sent Events, read from the database every `FIRMSCOUT_API__EVENTS_POLL_S`:

    - `status`: the task (as GET …/{id} returns it) when its `status`, `stop_reason` or `error` changed; every
      connection starts with one, the task as it is now;
    - `progress`: the task when anything else changed (funnel counters, `usage`, removals, warnings);
    - `result`: each result once (as GET …/{id}/results returns it), new ones in the results' order;
    - `end` (`{"id", "status"}`) once the task is `done` or `failed` and its last results are sent; then the
      server closes the stream (an `EventSource` should `close()` on it, or it reconnects);
    - `: heartbeat` comment lines every 15 s of quiet.

    Every event's `id` is `<k>.<n>`: `k` results delivered, `n` events sent, counted on across reconnects. With
    `Last-Event-ID: k.n` the stream goes on from `n` and counts the first `k` results of the list, best first,
    as delivered. That is exact when the results reached the client in the list's order (always on a stream
    opened after the task finished); when a later result outranks one the client has, the reconnect may repeat
    one and skip another, so a client that must have every result exactly once reads GET …/{id}/results.
    """
    return await stream(TaskFeed(service, caller, task_id, cost), last_event_id,
                        runtime(request).settings.api.events_poll_s)


async def stream(feed: TaskFeed, last_event_id: str | None, poll_s: float) -> StreamingResponse:
    """The feed's events as a response; the web app's live page streams through here too."""
    # Read once before streaming: another workspace's task or a malformed id is a 404 as GET …/{id} gives.
    await feed.task()
    return StreamingResponse(
        _body(feed, events.Cursor.parse(last_event_id), poll_s),
        media_type="text/event-stream",
        # no-transform and X-Accel-Buffering: proxies (nginx) must pass each event on, not buffer the stream.
        headers={"Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no"},
    )
