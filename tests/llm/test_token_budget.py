"""A task's LLM token budget (FIRMSCOUT_LLM__TOKENS_PER_TASK, a create's `budget.total_tokens`), against the
scripted Chat Completions server on loopback: every reply costs 120 tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from firmscout.config import Settings
from firmscout.pipeline.runner import GRADE_CHUNK, run_task
from firmscout.storage.views import TaskView
from firmscout.tasks import accounts
from firmscout.tasks.runtime import Runtime, open_runtime
from firmscout.tasks.service import NewTask
from firmscout.worker import pipeline_deps
from tests.factories import company, create_companies
from tests.servers.chat_completions import ChatCompletionsServer

BANKS = 2 * GRADE_CHUNK  # two grading chunks' worth, every one a Spanish bank


@asynccontextmanager
async def _banks(database_url: str, tmp_path: Path, **llm: Any) -> AsyncIterator[Runtime]:
    """A runtime over BANKS Spanish banks; `llm`: FIRMSCOUT_LLM__* settings (none: the local method)."""
    settings = Settings(data_dir=tmp_path, database_url=database_url, seed_builtin_companies=False,
                        llm=llm)
    async with open_runtime(settings) as runtime:
        await create_companies(runtime, [
            company(f"banco{i}.es", f"Banco {i}", country="Spain", industries=("Banks",), description="Retail bank")
            for i in range(BANKS)
        ])
        yield runtime


def _llm(server: ChatCompletionsServer, **more: Any) -> dict[str, Any]:
    return {"base_url": server.base_url, "model": "scripted-1", "timeout_s": 5, "batch_size": 5, "cache": False,
            **more}


async def _run(runtime: Runtime, task_id: str) -> TaskView:
    await run_task(pipeline_deps(runtime), task_id, last_attempt=True)
    caller = await accounts.local_caller(runtime.sessions)
    return await runtime.service.get(caller, task_id)


class TestTokenBudget:
    async def test_a_task_whose_token_budget_is_spent_stops_with_budget_exhausted_and_keeps_its_graded_results(
        self, database_url: str, tmp_path: Path, chat_server: ChatCompletionsServer
    ) -> None:
        async with _banks(database_url, tmp_path, **_llm(chat_server, plan_queries=False)) as runtime:
            caller = await accounts.local_caller(runtime.sessions)
            created = await runtime.service.create(caller, NewTask(query="banks in Spain", desired_num_results=250,
                                                                   token_budget=1))
            task = await _run(runtime, created.id)
        assert (task.status, task.stop_reason, task.is_exhausted) == ("done", "budget_exhausted", False)
        assert task.num_results > 0, "what was graded before the budget ran out stays"
        assert task.num_results_evaluated == GRADE_CHUNK < task.num_results_discovered, "no chunk after the budget"
        assert task.prompt_tokens + task.completion_tokens == 120 * len(chat_server.requests)

    async def test_resume_after_budget_exhausted_continues_with_a_fresh_budget(
        self, database_url: str, tmp_path: Path, chat_server: ChatCompletionsServer
    ) -> None:
        async with _banks(database_url, tmp_path, **_llm(chat_server, plan_queries=False)) as runtime:
            caller = await accounts.local_caller(runtime.sessions)
            created = await runtime.service.create(caller, NewTask(query="banks in Spain", desired_num_results=250,
                                                                   token_budget=1))
            first = await _run(runtime, created.id)
            calls = len(chat_server.requests)
            resumed = await runtime.service.resume(caller, created.id, 0)
            assert (resumed.status, resumed.stop_reason) == ("in_progress", None)
            second = await _run(runtime, created.id)
        assert (second.status, second.stop_reason) == ("done", "budget_exhausted")
        assert second.num_results_evaluated == 2 * GRADE_CHUNK, "the candidates left ungraded went first"
        assert len(chat_server.requests) == 2 * calls and second.num_results > first.num_results
        assert second.prompt_tokens == 2 * first.prompt_tokens, "usage counts both grants"

    async def test_a_spent_token_budget_asks_the_llm_nothing_not_even_a_plan(
        self, database_url: str, tmp_path: Path, chat_server: ChatCompletionsServer
    ) -> None:
        async with _banks(database_url, tmp_path, **_llm(chat_server)) as runtime:
            caller = await accounts.local_caller(runtime.sessions)
            created = await runtime.service.create(caller, NewTask(query="banks in Spain", token_budget=0))
            task = await _run(runtime, created.id)
        assert (task.status, task.stop_reason, task.num_results) == ("done", "budget_exhausted", 0)
        assert chat_server.requests == []

    async def test_the_plans_tokens_count_too(
        self, database_url: str, tmp_path: Path, chat_server: ChatCompletionsServer
    ) -> None:
        async with _banks(database_url, tmp_path, **_llm(chat_server)) as runtime:
            caller = await accounts.local_caller(runtime.sessions)
            created = await runtime.service.create(caller, NewTask(query="banks in Spain", token_budget=100))
            task = await _run(runtime, created.id)
        assert (task.status, task.stop_reason, task.num_results_evaluated) == ("done", "budget_exhausted", 0)
        assert len(chat_server.requests) == 1, "the plan's 120 tokens spent the budget: nothing was graded"

    async def test_without_an_llm_a_token_budget_caps_nothing(self, database_url: str, tmp_path: Path) -> None:
        async with _banks(database_url, tmp_path) as runtime:
            caller = await accounts.local_caller(runtime.sessions)
            created = await runtime.service.create(caller, NewTask(query="banks in Spain", desired_num_results=5,
                                                                   token_budget=0))
            task = await _run(runtime, created.id)
        assert (task.status, task.stop_reason, task.num_results) == ("done", "target_reached", 5)
