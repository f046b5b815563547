"""A task's live events (Server-Sent Events), made by comparing successive reads of the task: no broker, so
any API process can serve a stream of a task that any worker runs.

`EventStream` is pure: it turns one snapshot (the task's JSON, and its results' JSON when they were read)
into the events since the previous one. `watch` is the polling loop around it.

Event ids are `<k>.<n>`: `k` results delivered so far, `n` events so far, both counted across reconnects, so
ids only grow. Resuming from `Last-Event-ID: k.n` treats the first `k` results of the list as delivered.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

FINISHED = ("done", "failed")
HEARTBEAT = ": heartbeat\n\n"
HEARTBEAT_S = 15.0
# Fields whose change is a `status` event; a change to any other field of the task is `progress`.
_STATUS_FIELDS = ("status", "stop_reason", "error")

JSON = dict[str, Any]


@dataclass(frozen=True)
class Event:
    kind: str  # status | progress | result | end
    id: str
    data: JSON

    def encode(self) -> str:
        # Compact JSON holds no newline, so one `data:` line carries it whole.
        return f"id: {self.id}\nevent: {self.kind}\ndata: {json.dumps(self.data, separators=(',', ':'))}\n\n"


@dataclass(frozen=True)
class Cursor:
    """Where a stream stands: results delivered and events sent."""

    results: int = 0
    events: int = 0

    @classmethod
    def parse(cls, last_event_id: str | None) -> Cursor:
        """The cursor of a `Last-Event-ID` header; anything unreadable starts from the beginning."""
        k, dot, n = (last_event_id or "").strip().partition(".")
        if not (dot and k.isdigit() and n.isdigit()):
            return cls()
        return cls(int(k), int(n))


@dataclass
class EventStream:
    """The events of one stream. Results are told apart by id; the first `cursor.results` of the first list
    read count as delivered (an earlier connection sent them)."""

    cursor: Cursor = field(default_factory=Cursor)
    _task: JSON | None = None
    _sent: set[str] = field(default_factory=set)
    _results_read: int | None = None  # the task's num_results when its results were last read

    def needs_results(self, task: JSON) -> bool:
        """Whether this read must include the results: only when their count moved (or never read)."""
        return self._results_read != task["num_results"] or task["status"] in FINISHED

    def step(self, task: JSON, results: list[JSON] | None) -> list[Event]:
        """The events since the previous snapshot: status, progress, new results in the list's order, end."""
        events: list[Event] = []
        if self._task is None or _part(self._task, True) != _part(task, True):
            events.append(self._event("status", task))
        if self._task is not None and _part(self._task, False) != _part(task, False):
            events.append(self._event("progress", task))
        if results is not None:
            events += self._new_results(results)
            self._results_read = task["num_results"]
        if task["status"] in FINISHED and results is not None:
            events.append(self._event("end", {"id": task["id"], "status": task["status"]}))
        self._task = task
        return events

    @property
    def ended(self) -> bool:
        return self._task is not None and self._task["status"] in FINISHED and self._results_read is not None

    def _new_results(self, results: list[JSON]) -> list[Event]:
        if self._results_read is None and self.cursor.results:
            # Resuming: the earlier connection delivered this many, best first.
            self._sent.update(r["id"] for r in results[: self.cursor.results])
        events = []
        for result in results:
            if result["id"] not in self._sent:
                self._sent.add(result["id"])
                self.cursor = Cursor(max(self.cursor.results, len(self._sent)), self.cursor.events)
                events.append(self._event("result", result))
        return events

    def _event(self, kind: str, data: JSON) -> Event:
        self.cursor = Cursor(self.cursor.results, self.cursor.events + 1)
        return Event(kind, f"{self.cursor.results}.{self.cursor.events}", data)


def _part(task: JSON, status: bool) -> JSON:
    return {k: v for k, v in task.items() if (k in _STATUS_FIELDS) is status}


class TaskFeed(Protocol):
    """Reads of one task, as its GET endpoints show it (the caller's scope already applied)."""

    async def task(self) -> JSON: ...

    async def results(self) -> tuple[JSON, list[JSON]]:
        """The task and all its results, best first, read in one snapshot."""
        ...


async def watch(
    feed: TaskFeed, cursor: Cursor, *, poll_s: float, heartbeat_s: float = HEARTBEAT_S,
    clock: Callable[[], float] = time.monotonic,
) -> AsyncIterator[str]:
    """The stream's text: events as the task changes, a heartbeat comment when quiet, until the task ends."""
    stream = EventStream(cursor)
    quiet_since = clock()
    while True:
        task = await feed.task()
        results = None
        if stream.needs_results(task):
            task, results = await feed.results()
        for event in stream.step(task, results):
            yield event.encode()
            quiet_since = clock()
        if stream.ended:
            return
        if clock() - quiet_since >= heartbeat_s:
            # A comment line: proxies see traffic and keep the connection; EventSource ignores it.
            yield HEARTBEAT
            quiet_since = clock()
        await asyncio.sleep(poll_s)
