"""`firmscout explain` shows the parse a task would use, and `explain --task` why a task found what it found;
`search` says why it found fewer than asked."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from firmscout.cli import app
from firmscout.commands.explain import explain_task, print_task_explanation
from firmscout.commands.search import run_search
from firmscout.config import Settings
from firmscout.pipeline.runner import run_task
from firmscout.tasks import accounts
from firmscout.tasks.runtime import Runtime
from firmscout.tasks.service import NewTask
from firmscout.worker import pipeline_deps
from tests.factories import company, create_companies
from tests.servers.chat_completions import ChatCompletionsServer, plan_from_query

BANKS_AND_A_TELCO = [
    company("bbva.com", "BBVA", country="Spain", industries=("Banks",), description="Spanish bank"),
    company("movil.es", "Movil", country="Spain", industries=("Telecommunications",), description="Telecom operator",
            full_description="Movil runs mobile networks across Spain. It also partners with a bank for payments."),
]


class TestExplain:
    def test_json_parse_of_a_structured_query(self) -> None:
        result = CliRunner().invoke(app, ["explain", "Nordic banks founded before 1900", "--json"])
        assert result.exit_code == 0, result.output
        parse = json.loads(result.output)
        assert [c["key"] for c in parse["criteria"]] == ["industry_focus", "geography", "founding_year"]
        assert set(parse["constraints"]["countries"]) == {"Sweden", "Norway", "Denmark", "Finland", "Iceland"}
        assert parse["constraints"]["founded_before"] == 1899
        assert "bank" in parse["search_terms"]
        assert parse["web_searches"][0] == "Nordic banks founded before 1900"

    def test_table_output_names_criteria_and_constraints(self) -> None:
        result = CliRunner().invoke(app, ["explain", "Japanese carmakers"])
        assert result.exit_code == 0
        assert "geography" in result.output and "Japan" in result.output
        assert "Web searches (the web_search source): Japanese carmakers;" in result.output


class TestExplainWithAnLLM:
    def test_shows_the_llms_criteria_and_search_terms_beside_the_parse(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def plan(request: dict[str, Any]) -> str:
            reply = json.loads(plan_from_query(request, ("savings institution", "bank")))
            reply["constraints"]["min_employees"] = 1000
            return json.dumps(reply)

        server = ChatCompletionsServer(plan_content=plan).start()
        try:
            monkeypatch.setenv("FIRMSCOUT_DATA_DIR", str(tmp_path))
            monkeypatch.setenv("FIRMSCOUT_LLM__BASE_URL", server.base_url)
            monkeypatch.setenv("FIRMSCOUT_LLM__MODEL", "scripted-1")
            result = CliRunner().invoke(app, ["explain", "banks in Spain", "--json"])
            table = CliRunner().invoke(app, ["explain", "banks in Spain"])
        finally:
            server.stop()
        assert result.exit_code == 0, result.output
        parse = json.loads(result.output)
        assert [c["key"] for c in parse["criteria"]] == ["industry_focus", "geography"], "the local parse stays"
        llm = parse["llm"]
        assert llm["model"] == "scripted-1" and [c["key"] for c in llm["criteria"]] == ["matches_query"]
        assert llm["expansion_terms"] == ["savings institution"], "bank is a local term already"
        assert llm["constraints"]["countries"] == ["Spain"] and llm["constraints"]["min_employees"] == 1000
        assert llm["usage"] == {"prompt_tokens": 100, "completion_tokens": 20}
        assert table.exit_code == 0 and "savings institution" in table.output and "matches_query" in table.output
        assert len(server.requests) == 1, "the second explain was served from the cache"

    def test_an_unreachable_llm_is_one_clear_error_line(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            monkeypatch.setenv("FIRMSCOUT_DATA_DIR", str(tmp_path))
            monkeypatch.setenv("FIRMSCOUT_LLM__BASE_URL", f"http://127.0.0.1:{s.getsockname()[1]}/v1")
            monkeypatch.setenv("FIRMSCOUT_LLM__MODEL", "scripted-1")
            result = CliRunner().invoke(app, ["explain", "banks in Spain"])
        assert result.exit_code == 1 and "FIRMSCOUT_LLM__BASE_URL" in result.output


class TestExplainTask:
    async def test_shows_how_many_candidates_each_criterion_removed(
        self, runtime: Runtime, settings: Settings, capsys: pytest.CaptureFixture[str]
    ) -> None:
        await create_companies(runtime, BANKS_AND_A_TELCO)
        caller = await accounts.local_caller(runtime.sessions)
        task = await runtime.service.create(caller, NewTask(query="banks in Spain", desired_num_results=5))
        await run_task(pipeline_deps(runtime), task.id)
        found = await explain_task(settings, task.id)
        assert found["candidates_removed"] == {"considered": 2, "by_criterion": {"industry_focus": 1}, "duplicates": 0}
        assert found["summary"] == ("1 of 2 candidates became results: 1 failed 'industry_focus' (The company is a "
                                    "bank or provides banking services).")
        print_task_explanation(found)
        out = capsys.readouterr().out
        assert "industry_focus" in out and found["summary"] in out

    def test_needs_a_query_or_a_task_but_not_both(self) -> None:
        assert CliRunner().invoke(app, ["explain"]).exit_code == 1
        assert CliRunner().invoke(app, ["explain", "banks", "--task", "x"]).exit_code == 1


class TestSearchSaysWhyFew:
    async def test_a_short_result_list_comes_with_the_removals(
        self, runtime: Runtime, settings: Settings, capsys: pytest.CaptureFixture[str]
    ) -> None:
        await create_companies(runtime, BANKS_AND_A_TELCO)
        mine = settings.model_copy(update={"seed_builtin_companies": False})
        rows = await run_search(mine, "banks in Spain", n=5, criteria=None, exclude=[], show_progress=False)
        assert [r["company_website"] for r in rows] == ["bbva.com"]
        assert "1 of 2 candidates became results: 1 failed 'industry_focus'" in capsys.readouterr().err

    async def test_no_candidate_at_all_names_the_search_terms_that_found_nothing(
        self, runtime: Runtime, settings: Settings, capsys: pytest.CaptureFixture[str]
    ) -> None:
        await create_companies(runtime, BANKS_AND_A_TELCO)
        mine = settings.model_copy(update={"seed_builtin_companies": False})
        rows = await run_search(mine, "shipyards in Spain", n=5, criteria=None, exclude=[], show_progress=False)
        assert rows == []
        err = capsys.readouterr().err
        assert "No candidates found: no company matched the search terms 'shipyard'" in err and "(in Spain)" in err
