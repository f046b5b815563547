"""The events of a task stream, from successive snapshots (pure), and the polling loop around them."""

from __future__ import annotations

import json
from typing import Any

from firmscout.tasks.events import HEARTBEAT, Cursor, Event, EventStream, watch


def _task(status: str = "in_progress", **fields: Any) -> dict[str, Any]:
    return {"id": "t1", "status": status, "stop_reason": None, "error": None, "num_results_discovered": 0,
            "num_results": 0, "usage": {"total_tokens": 0}, **fields}


def _result(rid: str) -> dict[str, Any]:
    return {"id": rid, "company_website": f"{rid}.com"}


def _kinds(events: list[Event]) -> list[str]:
    return [e.kind for e in events]


class TestEventStream:
    def test_first_snapshot_is_one_status_event(self) -> None:
        stream = EventStream()
        events = stream.step(_task("created"), [])
        assert _kinds(events) == ["status"]
        assert events[0].data["status"] == "created"
        assert events[0].id == "0.1"

    def test_an_unchanged_task_says_nothing(self) -> None:
        stream = EventStream()
        stream.step(_task(), [])
        assert stream.step(_task(), None) == []

    def test_counter_or_usage_change_is_progress(self) -> None:
        stream = EventStream()
        stream.step(_task(), [])
        assert _kinds(stream.step(_task(num_results_discovered=4), None)) == ["progress"]
        assert _kinds(stream.step(_task(num_results_discovered=4, usage={"total_tokens": 9}), None)) == ["progress"]

    def test_status_and_counters_changing_together_give_both(self) -> None:
        stream = EventStream()
        stream.step(_task("created"), [])
        events = stream.step(_task("in_progress", num_results_discovered=3), None)
        assert _kinds(events) == ["status", "progress"]

    def test_stop_reason_change_is_status(self) -> None:
        stream = EventStream()
        stream.step(_task(), [])
        assert _kinds(stream.step(_task(stop_reason="cancelled"), None)) == ["status"]

    def test_each_result_once_in_the_lists_order(self) -> None:
        stream = EventStream()
        stream.step(_task(), [])
        first = stream.step(_task(num_results=2), [_result("b"), _result("a")])
        assert [e.data["id"] for e in first if e.kind == "result"] == ["b", "a"]
        # A newcomer ranked first: only it is new.
        second = stream.step(_task(num_results=3), [_result("c"), _result("b"), _result("a")])
        assert [e.data["id"] for e in second if e.kind == "result"] == ["c"]

    def test_ids_count_results_and_events(self) -> None:
        stream = EventStream()
        ids = [e.id for e in stream.step(_task(num_results=2), [_result("a"), _result("b")])]
        assert ids == ["0.1", "1.2", "2.3"]

    def test_results_are_read_only_when_their_count_moved(self) -> None:
        stream = EventStream()
        assert stream.needs_results(_task())
        stream.step(_task(), [])
        assert not stream.needs_results(_task())
        assert stream.needs_results(_task(num_results=1))

    def test_finished_task_sends_its_last_results_then_end(self) -> None:
        stream = EventStream()
        stream.step(_task(), [])
        assert stream.needs_results(_task("done"))
        events = stream.step(_task("done", num_results=1), [_result("a")])
        assert _kinds(events) == ["status", "progress", "result", "end"]
        assert events[-1].data == {"id": "t1", "status": "done"}
        assert stream.ended

    def test_resuming_skips_the_results_delivered_and_counts_on(self) -> None:
        stream = EventStream(Cursor.parse("2.7"))
        events = stream.step(_task(num_results=3), [_result("a"), _result("b"), _result("c")])
        assert [(e.kind, e.id) for e in events] == [("status", "2.8"), ("result", "3.9")]
        assert events[1].data["id"] == "c"


class TestCursor:
    def test_parses_its_own_ids(self) -> None:
        assert Cursor.parse("12.40") == Cursor(12, 40)

    def test_anything_else_starts_over(self) -> None:
        for value in (None, "", "abc", "1", "1.x", "-1.2", "1.2.3"):
            assert Cursor.parse(value) == Cursor()


class _Feed:
    """One snapshot per poll, the last one repeated; each poll moves the clock 10 s on."""

    def __init__(self, *snapshots: tuple[dict[str, Any], list[dict[str, Any]]]) -> None:
        self.snapshots = list(snapshots)
        self.current = snapshots[0]
        self.now = 0.0

    async def task(self) -> dict[str, Any]:
        self.current = self.snapshots.pop(0) if self.snapshots else self.current
        self.now += 10
        return self.current[0]

    async def results(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        return self.current


def _kind(chunk: str) -> str:
    if chunk == HEARTBEAT:
        return "heartbeat"
    lines = dict(line.split(": ", 1) for line in chunk.strip().split("\n"))
    json.loads(lines["data"])
    return lines["event"]


class TestWatch:
    async def test_streams_until_the_task_ends(self) -> None:
        feed = _Feed((_task("created"), []), (_task(num_results_discovered=2), []),
                     (_task("done", num_results=1, stop_reason="exhausted"), [_result("a")]))
        chunks = [c async for c in watch(feed, Cursor(), poll_s=0)]
        assert [_kind(c) for c in chunks] == ["status", "status", "progress", "status", "progress", "result", "end"]

    async def test_a_heartbeat_after_15_quiet_seconds(self) -> None:
        feed = _Feed((_task(), []), (_task(), []), (_task(), []), (_task("done"), []))
        chunks = [c async for c in watch(feed, Cursor(), poll_s=0, heartbeat_s=15, clock=lambda: feed.now)]
        assert [_kind(c) for c in chunks] == ["status", "heartbeat", "status", "end"]
