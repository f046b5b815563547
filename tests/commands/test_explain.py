"""`firmscout explain` shows the parse a task would use."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from firmscout.cli import app
from tests.servers.chat_completions import ChatCompletionsServer, plan_from_query


class TestExplain:
    def test_json_parse_of_a_structured_query(self) -> None:
        result = CliRunner().invoke(app, ["explain", "Nordic banks founded before 1900", "--json"])
        assert result.exit_code == 0, result.output
        parse = json.loads(result.output)
        assert [c["key"] for c in parse["criteria"]] == ["industry_focus", "geography", "founding_year"]
        assert set(parse["constraints"]["countries"]) == {"Sweden", "Norway", "Denmark", "Finland", "Iceland"}
        assert parse["constraints"]["founded_before"] == 1899
        assert "bank" in parse["search_terms"]

    def test_table_output_names_criteria_and_constraints(self) -> None:
        result = CliRunner().invoke(app, ["explain", "Japanese carmakers"])
        assert result.exit_code == 0
        assert "geography" in result.output and "Japan" in result.output


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
