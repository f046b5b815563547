"""The LLM planner (criteria inference, query expansion) with the real openai SDK against the scripted server."""

from __future__ import annotations

import json
from pathlib import Path

from firmscout.entities import Criterion
from firmscout.llm.cache import ResponseCache
from firmscout.llm.openai_compatible import OpenAICompatibleLLM
from firmscout.llm.planner import LLMPlanner
from tests.servers.chat_completions import ChatCompletionsServer, Reply

PLAN = {
    "criteria": [{"key": "core_business", "name": "Core business",
                  "criterion": "The company is a retail or commercial bank."}],
    "constraints": {"countries": ["Spain"], "min_employees": 1000, "max_employees": None, "founded_after": None,
                    "founded_before": 1900},
    "search_terms": ["savings bank", "credit institution"],
    "web_searches": ["list of Spanish savings banks"],
}


def _planner(server: ChatCompletionsServer, cache: ResponseCache | None = None) -> LLMPlanner:
    llm = OpenAICompatibleLLM(base_url=server.base_url, model="scripted-1", timeout_s=5, backoff_s=0.01, cache=cache)
    return LLMPlanner(llm, "scripted-1")


class TestInference:
    async def test_the_models_criteria_constraints_and_terms_come_back_with_their_cost(
        self, chat_server: ChatCompletionsServer
    ) -> None:
        chat_server.script.append(Reply(content=json.dumps(PLAN)))
        draft = await _planner(chat_server).draft("large old Spanish banks", None)
        assert draft.criteria == (Criterion("core_business", "Core business",
                                            "The company is a retail or commercial bank."),)
        c = draft.constraints
        assert (c.countries, c.min_employees, c.max_employees, c.founded_before) == (("Spain",), 1000, None, 1900)
        assert draft.search_terms == ("savings bank", "credit institution")
        assert draft.web_searches == ("list of Spanish savings banks",)
        assert (draft.model, draft.usage.prompt_tokens, draft.usage.completion_tokens) == ("scripted-1", 100, 20)
        sent = chat_server.requests[0][1]
        assert sent["response_format"]["json_schema"]["name"] == "query_plan"
        assert "criteria" in sent["response_format"]["json_schema"]["schema"]["required"]
        assert json.loads(sent["messages"][-1]["content"]) == {"query": "large old Spanish banks"}

    async def test_given_criteria_are_context_and_not_asked_back(self, chat_server: ChatCompletionsServer) -> None:
        given = (Criterion("retail", "Retail", "The company serves retail customers."),)
        chat_server.script.append(Reply(content=json.dumps({k: v for k, v in PLAN.items() if k != "criteria"})))
        draft = await _planner(chat_server).draft("banks", given)
        assert draft.criteria == () and draft.search_terms == ("savings bank", "credit institution")
        sent = chat_server.requests[0][1]
        assert "criteria" not in sent["response_format"]["json_schema"]["schema"]["properties"]
        assert json.loads(sent["messages"][-1]["content"])["criteria_given_by_the_user"] == [given[0].to_dict()]


class TestRobustness:
    async def test_malformed_json_is_repaired_once(self, chat_server: ChatCompletionsServer) -> None:
        chat_server.script += [Reply(content='{"criteria": [{"key": "core'), Reply(content=json.dumps(PLAN))]
        draft = await _planner(chat_server).draft("Spanish banks", None)
        assert draft.criteria[0].key == "core_business"
        assert draft.usage.prompt_tokens == 200, "both calls are paid for"
        assert "not valid JSON" in chat_server.requests[1][1]["messages"][-1]["content"]

    async def test_a_reply_without_criteria_is_repaired(self, chat_server: ChatCompletionsServer) -> None:
        chat_server.script += [Reply(content=json.dumps({**PLAN, "criteria": []})), Reply(content=json.dumps(PLAN))]
        draft = await _planner(chat_server).draft("Spanish banks", None)
        assert len(draft.criteria) == 1
        assert "fewer than 1" in chat_server.requests[1][1]["messages"][-1]["content"]

    async def test_a_rerun_is_served_from_the_cache(self, chat_server: ChatCompletionsServer, tmp_path: Path) -> None:
        chat_server.script.append(Reply(content=json.dumps(PLAN)))
        first = await _planner(chat_server, ResponseCache(tmp_path / "c.sqlite")).draft("Spanish banks", None)
        again = await _planner(chat_server, ResponseCache(tmp_path / "c.sqlite")).draft("Spanish banks", None)
        assert again.criteria == first.criteria and again.search_terms == first.search_terms
        assert len(chat_server.requests) == 1 and again.usage.prompt_tokens == 0
