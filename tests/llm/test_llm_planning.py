"""A discovery task planned by an LLM: criteria inference and query expansion in the worker's plan step
(real openai SDK, scripted Chat Completions server on loopback, real database)."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from firmscout.config import Settings
from firmscout.entities import Criterion
from firmscout.errors import LLMError
from firmscout.pipeline.runner import run_task
from firmscout.storage.tables import DiscoveryTask
from firmscout.tasks import accounts
from firmscout.tasks.runtime import Runtime, open_runtime
from firmscout.tasks.service import NewTask
from firmscout.worker import pipeline_deps
from tests.api.companies import ALL
from tests.factories import auth, company, create_companies, create_token
from tests.servers.chat_completions import ChatCompletionsServer, Reply, plan_from_query, schema_name

# A Spanish bank that never says "bank": only a search for "savings institution" finds it.
UNICAJA = company("unicaja.es", "Unicaja", country="Spain", city="Malaga", industries=("Savings institutions",),
                  description="Spanish savings institution", wikipedia_url="https://en.wikipedia.org/wiki/Unicaja")
MODEL_CRITERIA = [{"key": "core_business", "name": "Core business",
                   "criterion": "The company takes deposits and lends money."},
                  {"key": "hq_spain", "name": "Headquarters", "criterion": "The company is headquartered in Spain."}]


def model_plan(terms: tuple[str, ...] = ("savings institution",)) -> Callable[[dict[str, Any]], str]:
    def reply(request: dict[str, Any]) -> str:
        plan = json.loads(plan_from_query(request, terms))
        if "criteria" in plan:
            plan["criteria"] = MODEL_CRITERIA
        return json.dumps(plan)
    return reply


@asynccontextmanager
async def llm_runtime(tmp_path: Path, base_url: str, **llm: object) -> AsyncIterator[Runtime]:
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/db.sqlite",
                        llm={"base_url": base_url, "model": "scripted-1", "timeout_s": 5, **llm})
    async with open_runtime(settings) as runtime:
        await create_companies(runtime, [*ALL, UNICAJA])
        yield runtime


async def stored_plan(runtime: Runtime, task_id: str) -> dict[str, Any]:
    async with runtime.sessions() as session:
        task = await session.get(DiscoveryTask, task_id)
    assert task is not None and task.plan is not None
    return task.plan


def plan_requests(server: ChatCompletionsServer) -> list[dict[str, Any]]:
    return [body for _, body in server.requests if schema_name(body) == "query_plan"]


class TestCriteriaInference:
    async def test_the_task_grades_the_models_criteria_after_showing_the_parsers_at_creation(
        self, tmp_path: Path, chat_server: ChatCompletionsServer
    ) -> None:
        chat_server.plan_content = model_plan()
        async with llm_runtime(tmp_path, chat_server.base_url) as runtime:
            caller = await accounts.local_caller(runtime.sessions)
            created = await runtime.service.create(caller, NewTask(query="banks in Spain", desired_num_results=10))
            assert [c["key"] for c in created.criteria] == ["industry_focus", "geography"]
            assert not chat_server.requests, "creating a task never waits for the model"
            await run_task(pipeline_deps(runtime), created.id, last_attempt=True)
            page = await runtime.service.results(caller, created.id, offset=0, limit=50)
            plan = await stored_plan(runtime, created.id)
        task = page.task
        assert task.status == "done" and task.criteria == MODEL_CRITERIA
        assert plan["planned_by"] == "llm:scripted-1"
        assert page.results and all(set(r.scores or {}) == {"core_business", "hq_spain"} for r in page.results)
        calls = len(chat_server.requests)
        assert (task.prompt_tokens, task.completion_tokens) == (100 * calls, 20 * calls), "planning tokens count"

    async def test_the_callers_criteria_are_kept_and_not_asked_for(
        self, tmp_path: Path, chat_server: ChatCompletionsServer
    ) -> None:
        chat_server.plan_content = model_plan()
        given = Criterion("spanish_bank", "Spanish bank", "The company is a bank headquartered in Spain.")
        async with llm_runtime(tmp_path, chat_server.base_url) as runtime:
            caller = await accounts.local_caller(runtime.sessions)
            task = await runtime.service.create(caller, NewTask(query="banks in Spain", criteria=[given]))
            await run_task(pipeline_deps(runtime), task.id, last_attempt=True)
            task = await runtime.service.get(caller, task.id)
        assert task.criteria == [given.to_dict()]
        (sent,) = plan_requests(chat_server)
        assert "criteria" not in sent["response_format"]["json_schema"]["schema"]["properties"]


class TestQueryExpansion:
    @pytest.mark.parametrize(("terms", "found"), [(("savings institution",), True), ((), False)])
    async def test_a_company_found_only_through_the_models_search_term(
        self, tmp_path: Path, chat_server: ChatCompletionsServer, terms: tuple[str, ...], found: bool
    ) -> None:
        chat_server.plan_content = model_plan(terms)
        async with llm_runtime(tmp_path, chat_server.base_url) as runtime:
            caller = await accounts.local_caller(runtime.sessions)
            task = await runtime.service.create(caller, NewTask(query="banks in Spain", desired_num_results=10))
            await run_task(pipeline_deps(runtime), task.id, last_attempt=True)
            page = await runtime.service.results(caller, task.id, offset=0, limit=50)
            plan = await stored_plan(runtime, task.id)
        assert ("unicaja.es" in {r.domain for r in page.results}) is found
        assert plan["expansion_terms"] == list(terms)


class TestCheckpoint:
    async def test_the_plan_is_made_once_a_resumed_task_does_not_ask_again(
        self, tmp_path: Path, chat_server: ChatCompletionsServer
    ) -> None:
        chat_server.plan_content = model_plan()
        async with llm_runtime(tmp_path, chat_server.base_url, cache=False) as runtime:
            caller = await accounts.local_caller(runtime.sessions)
            task = await runtime.service.create(caller, NewTask(query="banks in Spain", desired_num_results=1))
            await run_task(pipeline_deps(runtime), task.id, last_attempt=True)
            await runtime.service.resume(caller, task.id, 5)
            await run_task(pipeline_deps(runtime), task.id, last_attempt=True)
            task = await runtime.service.get(caller, task.id)
        assert task.status == "done" and task.criteria == MODEL_CRITERIA
        assert len(plan_requests(chat_server)) == 1, "no cache here: the stored plan is the checkpoint"

    async def test_a_transient_failure_leaves_the_plan_to_the_next_attempt(
        self, tmp_path: Path, chat_server: ChatCompletionsServer
    ) -> None:
        chat_server.plan_content = model_plan()
        chat_server.script += [Reply(status=503)] * 2
        async with llm_runtime(tmp_path, chat_server.base_url, max_attempts=2) as runtime:
            caller = await accounts.local_caller(runtime.sessions)
            task = await runtime.service.create(caller, NewTask(query="banks in Spain", desired_num_results=10))
            deps = pipeline_deps(runtime)
            with pytest.raises(LLMError, match="planning the query with the LLM failed") as failure:
                await run_task(deps, task.id, last_attempt=False)
            assert failure.value.transient
            assert (await runtime.service.get(caller, task.id)).status == "created"
            await run_task(deps, task.id, last_attempt=True)
            task = await runtime.service.get(caller, task.id)
        assert task.status == "done" and task.criteria == MODEL_CRITERIA


class TestProviderDown:
    async def test_create_answers_at_once_and_the_task_fails_naming_the_setting(self, tmp_path: Path) -> None:
        from firmscout.api.app import create_app

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))  # bound, never listening: connection refused
            url = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
            async with llm_runtime(tmp_path, url) as runtime:
                token = await create_token(runtime)
                transport = httpx.ASGITransport(app=create_app(runtime))
                async with httpx.AsyncClient(transport=transport, base_url="http://firmscout.test") as client:
                    response = await client.post("/v1/discovery_tasks", headers=auth(token),
                                                 json={"query": "banks in Spain", "desired_num_results": 5})
                    assert response.status_code == 200, response.text
                    body = response.json()
                    assert body["status"] == "created"
                    assert [c["key"] for c in body["criteria"]] == ["industry_focus", "geography"]
                    await run_task(pipeline_deps(runtime), body["id"], last_attempt=False)
                    task = (await client.get(f"/v1/discovery_tasks/{body['id']}", headers=auth(token))).json()
        assert task["status"] == "failed" and task["stop_reason"] == "failed"
        assert "planning the query with the LLM failed" in task["error"]
        assert "FIRMSCOUT_LLM__BASE_URL" in task["error"]


class TestTemperature:
    @pytest.mark.parametrize(("setting", "sent"), [(0.4, 0.4), ("omit", None)])
    async def test_every_request_carries_the_configured_temperature_or_none(
        self, tmp_path: Path, chat_server: ChatCompletionsServer, setting: object, sent: float | None
    ) -> None:
        async with llm_runtime(tmp_path, chat_server.base_url, temperature=setting) as runtime:
            caller = await accounts.local_caller(runtime.sessions)
            task = await runtime.service.create(caller, NewTask(query="banks in Spain", desired_num_results=10))
            await run_task(pipeline_deps(runtime), task.id, last_attempt=True)
        assert len(chat_server.requests) >= 2, "planned and graded"
        assert all(body.get("temperature") == sent for _, body in chat_server.requests)
        assert all(("temperature" in body) is (sent is not None) for _, body in chat_server.requests)


class TestRetries:
    async def test_a_429_during_planning_waits_for_retry_after_then_plans(
        self, tmp_path: Path, chat_server: ChatCompletionsServer
    ) -> None:
        chat_server.plan_content = model_plan()
        chat_server.script.append(Reply(status=429, headers={"Retry-After": "1"}))
        async with llm_runtime(tmp_path, chat_server.base_url) as runtime:
            caller = await accounts.local_caller(runtime.sessions)
            task = await runtime.service.create(caller, NewTask(query="banks in Spain", desired_num_results=10))
            await run_task(pipeline_deps(runtime), task.id, last_attempt=True)
            task = await runtime.service.get(caller, task.id)
        assert task.status == "done" and task.criteria == MODEL_CRITERIA
        (first, _), (second, _) = chat_server.requests[:2]
        assert second - first >= 0.95, "the retry came before Retry-After allowed it"

    async def test_a_planning_request_that_times_out_on_the_last_attempt_fails_the_task(
        self, tmp_path: Path, chat_server: ChatCompletionsServer
    ) -> None:
        chat_server.script += [Reply(delay_s=1.5), Reply(delay_s=1.5)]
        async with llm_runtime(tmp_path, chat_server.base_url, timeout_s=0.3, max_attempts=2) as runtime:
            caller = await accounts.local_caller(runtime.sessions)
            task = await runtime.service.create(caller, NewTask(query="banks in Spain", desired_num_results=10))
            await run_task(pipeline_deps(runtime), task.id, last_attempt=True)
            task = await runtime.service.get(caller, task.id)
        assert task.status == "failed" and task.error
        assert task.error.startswith("planning the query with the LLM failed") and "timeout" in task.error


@pytest.fixture(autouse=True)
def _fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    # Production backs off 1 s, 2 s, 4 s; the retry logic is the same at 10 ms.
    from firmscout.llm import openai_compatible

    original = openai_compatible.OpenAICompatibleLLM.__init__

    def init(self: openai_compatible.OpenAICompatibleLLM, **kwargs: object) -> None:
        kwargs.setdefault("backoff_s", 0.01)
        original(self, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(openai_compatible.OpenAICompatibleLLM, "__init__", init)
