"""The reply check against our JSON-schema subset (pure)."""

from __future__ import annotations

from typing import Any

from firmscout.llm.schema import violations

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "rows": {"type": "array", "minItems": 1, "maxItems": 2, "items": {
            "type": "object",
            "properties": {"grade": {"type": "integer", "enum": [1, 2, 3, 4, 5]},
                           "score": {"type": "number", "minimum": 0, "maximum": 1},
                           "tags": {"type": "array", "items": {"type": "string"}}},
            "required": ["grade", "score", "tags"],
            "additionalProperties": False,
        }},
    },
    "required": ["rows"],
    "additionalProperties": False,
}


def _row(**overrides: Any) -> dict[str, Any]:
    return {"grade": 4, "score": 0.5, "tags": ["a"]} | overrides


class TestViolations:
    def test_a_conforming_value_has_none(self) -> None:
        assert violations({"rows": [_row(), _row(score=1)]}, SCHEMA) == []

    def test_each_problem_is_named_with_its_path(self) -> None:
        found = violations({"rows": [_row(grade=7, score=1.5, tags=[3]), {"grade": 1}], "extra": 1}, SCHEMA)
        assert found == [
            "$: unexpected 'extra'",
            "$.rows[0].grade: 7 is not one of [1, 2, 3, 4, 5]",
            "$.rows[0].score: 1.5 is above 1",
            "$.rows[0].tags[0]: expected string, got int",
            "$.rows[1]: missing 'score'",
            "$.rows[1]: missing 'tags'",
        ]

    def test_item_counts_are_bounded(self) -> None:
        assert violations({"rows": []}, SCHEMA) == ["$.rows: 0 items, fewer than 1"]
        assert violations({"rows": [_row()] * 3}, SCHEMA) == ["$.rows: 3 items, more than 2"]

    def test_a_boolean_is_not_an_integer(self) -> None:
        assert violations({"rows": [_row(grade=True)]}, SCHEMA)[0].startswith("$.rows[0].grade: expected integer")

    def test_wrong_top_level_type(self) -> None:
        assert violations([], SCHEMA) == ["$: expected object, got list"]
