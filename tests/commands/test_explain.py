"""`firmscout explain` shows the parse a task would use."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from firmscout.cli import app


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
