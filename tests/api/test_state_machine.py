"""A hypothesis state machine drives create / poll / results / resume / exclude against a real
`firmscout serve` and checks the spec's invariants after every step."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

pytestmark = pytest.mark.slow
QUERIES = ["banks in Spain", "chemical companies in Germany", "Japanese carmakers", "insurance companies",
           "US semiconductor companies", "no such thing anywhere xyzzy"]
DOMAINS = ["bbva.com", "https://www.basf.com/global", "caixabank.com", "toyota.co.jp", "not a domain"]
FUNNEL = ("num_results_discovered", "num_results_enriched", "num_results_evaluated", "num_results")


class DiscoveryTasks(RuleBasedStateMachine):
    """Model: what each task was created with; the server must never contradict it."""

    client: httpx.Client
    tasks = Bundle("tasks")

    def __init__(self) -> None:
        super().__init__()
        self.frozen_exclusions: dict[str, list[str]] = {}
        self.targets: dict[str, int] = {}
        self.last_counts: dict[str, tuple[int, ...]] = {}

    @initialize()
    def connect(self) -> None:
        self.client = httpx.Client(base_url=SERVER[0], headers={"Authorization": f"Bearer {SERVER[1]}"}, timeout=30)

    def _get(self, task_id: str) -> dict[str, Any]:
        response = self.client.get(f"/v1/discovery_tasks/{task_id}")
        assert response.status_code == 200, response.text
        task: dict[str, Any] = response.json()
        return task

    def _wait(self, task_id: str) -> dict[str, Any]:
        deadline = time.monotonic() + 30
        while (task := self._get(task_id))["status"] not in ("done", "failed"):
            assert time.monotonic() < deadline, task
            time.sleep(0.05)
        return task

    @rule(target=tasks, query=st.sampled_from(QUERIES), n=st.integers(1, 6),
          exclude=st.lists(st.sampled_from(DOMAINS), max_size=3))
    def create(self, query: str, n: int, exclude: list[str]) -> str:
        response = self.client.post("/v1/discovery_tasks",
                                    json={"query": query, "desired_num_results": n, "exclude_domains": exclude})
        if "not a domain" in exclude:
            assert response.status_code == 422
            assert response.json()["detail"][0]["loc"][:2] == ["body", "exclude_domains"]
            return self.create(query, n, [d for d in exclude if d != "not a domain"])
        assert response.status_code == 200, response.text
        task = response.json()
        assert task["status"] == "created" and task["exclude_domains"] == sorted(task["exclude_domains"])
        self.frozen_exclusions[task["id"]] = task["exclude_domains"]
        self.targets[task["id"]] = n
        return str(task["id"])

    @rule(task_id=tasks)
    def poll(self, task_id: str) -> None:
        task = self._get(task_id)
        counts = tuple(task[c] for c in FUNNEL)
        assert list(counts) == sorted(counts, reverse=True), counts
        before = self.last_counts.get(task_id)
        assert before is None or all(b <= a for b, a in zip(before, counts, strict=True)), (before, counts)
        self.last_counts[task_id] = counts
        assert task["num_results"] <= task["desired_num_results"] == self.targets[task_id]
        assert task["exclude_domains"] == self.frozen_exclusions[task_id]

    @rule(task_id=tasks)
    def read_results(self, task_id: str) -> None:
        task = self._wait(task_id)
        body = self.client.get(f"/v1/discovery_tasks/{task_id}/results", params={"limit": 250}).json()
        rows = body["results"]
        assert len(rows) == task["num_results"]
        assert [r["relevance"] for r in rows] == sorted((r["relevance"] for r in rows), reverse=True)
        assert not {r["company_website"] for r in rows} & set(self.frozen_exclusions[task_id])
        for row in rows:
            grades = [s["grade"] for s in row["scores"].values()]
            assert sum(g >= 4 for g in grades) / len(grades) >= 0.75

    @rule(task_id=tasks, more=st.integers(0, 3))
    def resume(self, task_id: str, more: int) -> None:
        task = self._wait(task_id)
        response = self.client.post(f"/v1/discovery_tasks/{task_id}/resume", json={"desired_new_results": more})
        if task["is_exhausted"]:
            assert response.status_code == 400
            return
        assert response.status_code == 200, response.text
        self.targets[task_id] = min(250, task["desired_num_results"] + more)
        assert response.json()["desired_num_results"] == self.targets[task_id]
        assert response.json()["exclude_domains"] == self.frozen_exclusions[task_id]

    @rule(target=tasks, source=tasks)
    def exclude_previous(self, source: str) -> str:
        done = self._wait(source)
        visible = {r["company_website"] for r in self.client.get(
            f"/v1/discovery_tasks/{source}/results", params={"limit": 250}).json()["results"]}
        response = self.client.post("/v1/discovery_tasks", json={"query": done["query"], "exclude_task_ids": [source]})
        if done["status"] != "done":
            assert response.status_code == 400
            return source
        assert response.status_code == 200, response.text
        task = response.json()
        assert task["exclude_domains"] == sorted(visible)
        self.frozen_exclusions[task["id"]] = task["exclude_domains"]
        self.targets[task["id"]] = task["desired_num_results"]
        return str(task["id"])

    @invariant()
    def list_is_newest_first(self) -> None:
        if hasattr(self, "client"):
            listed = self.client.get("/v1/discovery_tasks", params={"limit": 100}).json()
            stamps = [t["created_at"] for t in listed]
            assert stamps == sorted(stamps, reverse=True)


SERVER: tuple[str, str] = ("", "")


def test_state_machine(embedded_server: tuple[str, str]) -> None:
    global SERVER
    SERVER = embedded_server
    DiscoveryTasks.TestCase.settings = settings(
        max_examples=8, stateful_step_count=12, deadline=None, suppress_health_check=list(HealthCheck),
        database=None,
    )
    DiscoveryTasks.TestCase().runTest()
