"""A discovery task graded by an LLM (scripted Chat Completions server on loopback)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from firmscout.config import Settings
from firmscout.errors import LLMError
from firmscout.pipeline.runner import run_task
from firmscout.storage.tables import DiscoveryTask
from firmscout.tasks import accounts
from firmscout.tasks.runtime import open_runtime
from firmscout.tasks.service import NewTask
from firmscout.worker import pipeline_deps
from tests.api.companies import ALL
from tests.factories import create_companies
from tests.servers.chat_completions import ChatCompletionsServer, Reply, schema_name


async def _run(tmp_path: Path, base_url: str, query: str = "banks in Spain", runs: int = 1,
               last_attempt: bool = True) -> DiscoveryTask:
    """Create `runs` tasks for the same query on one database and run each; return the last."""
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/db.sqlite",
                        llm={"base_url": base_url, "model": "scripted-1", "timeout_s": 5,
                             "batch_size": 3})
    async with open_runtime(settings) as runtime:
        await create_companies(runtime, ALL)
        caller = await accounts.local_caller(runtime.sessions)
        for _ in range(runs):
            task = await runtime.service.create(caller, NewTask(query=query, desired_num_results=10))
            await run_task(pipeline_deps(runtime), task.id, last_attempt=last_attempt)
        page = await runtime.service.results(caller, task.id, offset=0, limit=50)
        assert all(r.scores for r in page.results)
        return page.task


class TestLLMGradedTask:
    async def test_grades_and_explanations_come_from_the_model(
        self, tmp_path: Path, chat_server: ChatCompletionsServer
    ) -> None:
        task = await _run(tmp_path, chat_server.base_url)
        assert task.status == "done" and task.num_results >= 3
        calls = len(chat_server.requests)
        assert (task.prompt_tokens, task.completion_tokens) == (100 * calls, 20 * calls), "tokens recorded"
        prompts = [body for _, body in chat_server.requests if schema_name(body) == "company_grades"]
        assert all(body["response_format"]["type"] == "json_schema" for body in prompts)
        assert max(len(json.loads(b["messages"][-1]["content"])["companies"]) for b in prompts) <= 3

    async def test_explanations_and_sources_in_the_results_are_the_models(
        self, tmp_path: Path, chat_server: ChatCompletionsServer
    ) -> None:
        settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/db.sqlite",
                            llm={"base_url": chat_server.base_url, "model": "scripted-1"})
        async with open_runtime(settings) as runtime:
            await create_companies(runtime, ALL)
            caller = await accounts.local_caller(runtime.sessions)
            task = await runtime.service.create(caller, NewTask(query="banks in Spain", desired_num_results=10))
            await run_task(pipeline_deps(runtime), task.id)
            page = await runtime.service.results(caller, task.id, offset=0, limit=50)
        assert page.results
        for result in page.results:
            for grade in (result.scores or {}).values():
                assert grade["explanation"].startswith("LLM: ") and grade["sources"]

    async def test_a_rerun_of_the_same_query_costs_nothing(
        self, tmp_path: Path, chat_server: ChatCompletionsServer
    ) -> None:
        task = await _run(tmp_path, chat_server.base_url, runs=2)
        calls = len(chat_server.requests)
        assert task.status == "done" and task.num_results >= 3
        assert (task.prompt_tokens, task.completion_tokens) == (0, 0), "the second task was served from the cache"
        assert calls == len({json.dumps(b["messages"]) for _, b in chat_server.requests}), "no prompt sent twice"

    async def test_a_transient_failure_hands_the_task_back_to_the_queue(
        self, tmp_path: Path, chat_server: ChatCompletionsServer
    ) -> None:
        chat_server.script += [Reply(status=503)] * 10
        with pytest.raises(LLMError) as failure:
            await _run(tmp_path, chat_server.base_url, last_attempt=False)
        assert failure.value.transient is True

    async def test_a_model_that_rejects_everything_yields_no_results(
        self, tmp_path: Path
    ) -> None:
        from tests.servers.chat_completions import grade_everything

        server = ChatCompletionsServer(default_content=lambda request: grade_everything(request, grade=1)).start()
        try:
            task = await _run(tmp_path, server.base_url)
        finally:
            server.stop()
        assert task.status == "done" and task.num_results == 0 and task.num_results_evaluated > 0

    async def test_a_server_without_json_schema_output_grades_the_task_after_one_refusal(
        self, tmp_path: Path
    ) -> None:
        # A llama.cpp server that takes neither json_schema nor json_object, and fences its replies.
        server = ChatCompletionsServer(flavor="llamacpp", refuses=("json_schema", "json_object"),
                                       plain="fenced").start()
        try:
            task = await _run(tmp_path, server.base_url)
        finally:
            server.stop()
        assert task.status == "done" and task.num_results >= 3
        formats = [(body.get("response_format") or {}).get("type") for _, body in server.requests]
        # Planner and grader share one LLM: the first request learns the mode, every later one uses it.
        assert formats[:3] == ["json_schema", "json_object", None] and set(formats[3:]) == {None}
        assert {schema_name(body) for _, body in server.requests[2:]} == {"query_plan", "company_grades"}

    async def test_unreachable_provider_fails_the_task_with_a_clear_error(self, tmp_path: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            url = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
            task = await _run(tmp_path, url)
        assert task.status == "failed"
        assert task.error and "FIRMSCOUT_LLM__BASE_URL" in task.error

    async def test_a_provider_that_keeps_failing_fails_the_task_on_the_last_attempt(
        self, tmp_path: Path, chat_server: ChatCompletionsServer
    ) -> None:
        chat_server.script += [Reply(status=500)] * 10
        task = await _run(tmp_path, chat_server.base_url)
        assert task.status == "failed" and task.error and "HTTP 500" in task.error


@pytest.fixture(autouse=True)
def _fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    # Production backs off 1 s, 2 s, 4 s; the retry logic is the same at 10 ms.
    from firmscout.llm import openai_compatible

    original = openai_compatible.OpenAICompatibleLLM.__init__

    def init(self: openai_compatible.OpenAICompatibleLLM, **kwargs: object) -> None:
        kwargs.setdefault("backoff_s", 0.01)
        original(self, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(openai_compatible.OpenAICompatibleLLM, "__init__", init)
