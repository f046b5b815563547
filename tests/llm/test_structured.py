"""Asking for JSON at three levels of server support, and reading replies leniently (pure)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from firmscout.llm.structured import lower_mode, parse_reply, rejects_format, request_messages, response_format
from tests.servers.chat_completions import ERROR_BODIES, REFUSALS, request_schema

SCHEMA: dict[str, Any] = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"],
                          "additionalProperties": False}
MESSAGES = [{"role": "system", "content": "You check things."}, {"role": "user", "content": "Is this fine?"}]


class TestModes:
    def test_each_mode_asks_differently(self) -> None:
        assert response_format("json_schema", SCHEMA, "verdict") == {
            "type": "json_schema", "json_schema": {"name": "verdict", "schema": SCHEMA, "strict": True}}
        assert response_format("json_object", SCHEMA, "verdict") == {"type": "json_object"}
        assert response_format("prompt", SCHEMA, "verdict") is None
        assert [lower_mode(m) for m in ("json_schema", "json_object", "prompt")] == [
            "json_object", "prompt", "prompt"]

    def test_the_schema_goes_into_the_system_message_unless_the_server_enforces_it(self) -> None:
        assert request_messages("json_schema", MESSAGES, SCHEMA, "verdict") is MESSAGES
        system, user = request_messages("json_object", MESSAGES, SCHEMA, "verdict")
        assert system["content"].startswith("You check things.\n\n") and json.dumps(SCHEMA) in system["content"]
        assert user == MESSAGES[1]
        # The test server reads it back as a model would.
        assert request_schema({"messages": [system, user]}) == ("verdict", SCHEMA)

    def test_a_conversation_without_a_system_message_gets_one(self) -> None:
        first, *rest = request_messages("prompt", MESSAGES[1:], SCHEMA, "verdict")
        assert first["role"] == "system" and rest == MESSAGES[1:]


class TestRefusals:
    @pytest.mark.parametrize("refusal", sorted(REFUSALS))
    def test_every_servers_refusal_is_recognised(self, refusal: tuple[str, str]) -> None:
        status, message = REFUSALS[refusal]
        body = ERROR_BODIES[refusal[0]](status, message, "response_format")
        assert rejects_format(status, f"Error code: {status} - {body}")

    @pytest.mark.parametrize(("status", "text"), [
        (400, "This model's maximum context length is 8192 tokens."),
        (401, "Invalid parameter: 'response_format' (but the key is wrong)"),
        (404, "model 'llama3' not found"),
        (503, "response_format busy"),
    ])
    def test_other_errors_are_not(self, status: int, text: str) -> None:
        assert not rejects_format(status, text)


class TestParseReply:
    @pytest.mark.parametrize("content", [
        '{"ok": true}',
        '```json\n{"ok": true}\n```',
        '```\n{"ok": true}\n```',
        'Here is the JSON you asked for:\n\n{"ok": true}\n\nLet me know if you need more.',
        '<think>Is {this} fine? {"ok": false, "why": 1}</think>\n{"ok": true}',
        '{"draft": 1} and then {"ok": true}',
    ])
    def test_json_is_found_where_models_put_it(self, content: str) -> None:
        assert parse_reply(content, SCHEMA) == ({"ok": True}, "")

    def test_not_json(self) -> None:
        parsed, problem = parse_reply("nope", SCHEMA)
        assert parsed is None and problem.startswith("That was not valid JSON")

    def test_json_that_is_not_an_object(self) -> None:
        assert parse_reply('[{"ok": true}]', SCHEMA) == (None, "That JSON is not an object.")

    def test_an_embedded_object_off_the_schema_is_named(self) -> None:
        assert parse_reply('Sure! {"ok": "yes"}', SCHEMA) == (
            None, "That JSON does not match the schema: $.ok: expected boolean, got str.")
