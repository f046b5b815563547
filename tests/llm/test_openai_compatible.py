"""The OpenAI-compatible adapter, with the real openai SDK over HTTP against a scripted loopback server."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from firmscout.errors import LLMError
from firmscout.llm.cache import ResponseCache
from firmscout.llm.openai_compatible import OpenAICompatibleLLM
from tests.servers.chat_completions import ChatCompletionsServer, Reply

SCHEMA = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"],
          "additionalProperties": False}
MESSAGES = [{"role": "user", "content": "Is this fine?"}]


def _llm(server: ChatCompletionsServer, **kwargs: object) -> OpenAICompatibleLLM:
    options: dict[str, object] = {"base_url": server.base_url, "model": "scripted-1", "timeout_s": 5.0,
                                  "backoff_s": 0.05}
    options.update(kwargs)
    return OpenAICompatibleLLM(**options)  # type: ignore[arg-type]


class TestStructuredOutput:
    async def test_sends_the_json_schema_and_returns_parsed_json_with_usage(
        self, chat_server: ChatCompletionsServer
    ) -> None:
        chat_server.script.append(Reply(content='{"ok": true}'))
        result, usage = await _llm(chat_server).complete_json(MESSAGES, SCHEMA, "verdict")
        assert result == {"ok": True}
        assert (usage.prompt_tokens, usage.completion_tokens) == (100, 20)
        sent = chat_server.requests[0][1]
        assert sent["model"] == "scripted-1" and sent["messages"] == MESSAGES
        assert sent["response_format"] == {"type": "json_schema",
                                           "json_schema": {"name": "verdict", "schema": SCHEMA, "strict": True}}

    async def test_malformed_json_gets_one_repair_round(self, chat_server: ChatCompletionsServer) -> None:
        chat_server.script += [Reply(content='{"ok": tru'), Reply(content='{"ok": false}')]
        result, usage = await _llm(chat_server).complete_json(MESSAGES, SCHEMA, "verdict")
        assert result == {"ok": False} and usage.prompt_tokens == 200
        repair = chat_server.requests[1][1]["messages"]
        assert repair[-2] == {"role": "assistant", "content": '{"ok": tru'}

    async def test_malformed_twice_is_a_permanent_error(self, chat_server: ChatCompletionsServer) -> None:
        chat_server.script += [Reply(content="nope"), Reply(content="still nope")]
        with pytest.raises(LLMError, match="valid JSON") as failure:
            await _llm(chat_server).complete_json(MESSAGES, SCHEMA, "verdict")
        assert failure.value.transient is False


    async def test_a_reply_off_the_schema_gets_one_repair_round_naming_the_problem(
        self, chat_server: ChatCompletionsServer
    ) -> None:
        chat_server.script += [Reply(content='{"ok": "yes"}'), Reply(content='{"ok": true}')]
        result, _ = await _llm(chat_server).complete_json(MESSAGES, SCHEMA, "verdict")
        assert result == {"ok": True}
        assert "$.ok: expected boolean, got str" in chat_server.requests[1][1]["messages"][-1]["content"]

    async def test_off_the_schema_twice_is_permanent_and_not_cached(
        self, chat_server: ChatCompletionsServer, tmp_path: Path
    ) -> None:
        chat_server.script += [Reply(content='{"ok": 1}'), Reply(content='{"ok": 1}'), Reply(content='{"ok": true}')]
        llm = _llm(chat_server, cache=ResponseCache(tmp_path / "cache.sqlite"))
        with pytest.raises(LLMError, match="expected boolean") as failure:
            await llm.complete_json(MESSAGES, SCHEMA, "verdict")
        assert failure.value.transient is False
        assert (await llm.complete_json(MESSAGES, SCHEMA, "verdict"))[0] == {"ok": True}, "asked again"

    async def test_a_refusal_is_permanent(self, chat_server: ChatCompletionsServer) -> None:
        chat_server.script.append(Reply(refusal="I can't help with that."))
        with pytest.raises(LLMError, match="refused to answer: I can't help") as failure:
            await _llm(chat_server).complete_json(MESSAGES, SCHEMA, "verdict")
        assert failure.value.transient is False


class TestRetries:
    async def test_429_waits_for_retry_after(self, chat_server: ChatCompletionsServer) -> None:
        chat_server.script += [Reply(status=429, headers={"Retry-After": "1"}), Reply(content='{"ok": true}')]
        result, _ = await _llm(chat_server).complete_json(MESSAGES, SCHEMA, "verdict")
        assert result == {"ok": True}
        (first, _), (second, _) = chat_server.requests
        assert second - first >= 0.95, "the second try came before Retry-After allowed it"

    async def test_retry_after_ms_is_honoured_too(self, chat_server: ChatCompletionsServer) -> None:
        chat_server.script += [Reply(status=429, headers={"retry-after-ms": "400"}), Reply(content='{"ok": true}')]
        await _llm(chat_server, backoff_s=0).complete_json(MESSAGES, SCHEMA, "verdict")
        (first, _), (second, _) = chat_server.requests
        assert second - first >= 0.38

    async def test_a_wait_longer_than_allowed_hands_the_retry_to_the_queue(
        self, chat_server: ChatCompletionsServer
    ) -> None:
        chat_server.script.append(Reply(status=503, headers={"Retry-After": "3600"}))
        with pytest.raises(LLMError, match="asked to wait 3600 s") as failure:
            await _llm(chat_server, max_wait_s=30).complete_json(MESSAGES, SCHEMA, "verdict")
        assert failure.value.transient is True and len(chat_server.requests) == 1

    async def test_persistent_5xx_is_a_transient_error(self, chat_server: ChatCompletionsServer) -> None:
        chat_server.script += [Reply(status=503)] * 3
        with pytest.raises(LLMError) as failure:
            await _llm(chat_server, max_attempts=3).complete_json(MESSAGES, SCHEMA, "verdict")
        assert failure.value.transient is True and len(chat_server.requests) == 3

    async def test_a_hanging_endpoint_times_out(self, chat_server: ChatCompletionsServer) -> None:
        chat_server.script += [Reply(delay_s=1.5), Reply(delay_s=1.5)]  # 5x the client timeout
        with pytest.raises(LLMError, match="timeout"):
            await _llm(chat_server, timeout_s=0.3, max_attempts=2).complete_json(MESSAGES, SCHEMA, "verdict")

    async def test_bad_key_is_permanent_and_says_what_to_check(self, chat_server: ChatCompletionsServer) -> None:
        chat_server.script.append(Reply(status=401))
        with pytest.raises(LLMError, match="FIRMSCOUT_LLM__API_KEY") as failure:
            await _llm(chat_server).complete_json(MESSAGES, SCHEMA, "verdict")
        assert failure.value.transient is False

    async def test_unreachable_endpoint_is_permanent(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]  # bound, never listening: connection refused
            llm = OpenAICompatibleLLM(base_url=f"http://127.0.0.1:{port}/v1", model="m", timeout_s=2)
            with pytest.raises(LLMError, match="FIRMSCOUT_LLM__BASE_URL"):
                await llm.complete_json(MESSAGES, SCHEMA, "verdict")


class TestConcurrency:
    async def test_requests_in_flight_are_bounded(self, chat_server: ChatCompletionsServer) -> None:
        chat_server.script += [Reply(content='{"ok": true}', delay_s=0.2) for _ in range(6)]
        llm = _llm(chat_server, max_concurrency=2)
        await asyncio.gather(*(llm.complete_json([{"role": "user", "content": str(i)}], SCHEMA, "verdict")
                               for i in range(6)))
        assert len(chat_server.requests) == 6 and chat_server.max_in_flight == 2


class TestCache:
    async def test_a_rerun_costs_nothing(self, chat_server: ChatCompletionsServer, tmp_path: Path) -> None:
        chat_server.script.append(Reply(content=json.dumps({"ok": True})))
        cache = ResponseCache(tmp_path / "cache.sqlite")
        first = await _llm(chat_server, cache=cache).complete_json(MESSAGES, SCHEMA, "verdict")
        again = await _llm(chat_server, cache=ResponseCache(tmp_path / "cache.sqlite")).complete_json(
            MESSAGES, SCHEMA, "verdict")
        assert first[0] == again[0] and again[1].prompt_tokens == 0
        assert len(chat_server.requests) == 1


class TestTemperature:
    async def test_zero_by_default_for_repeatable_answers(self, chat_server: ChatCompletionsServer) -> None:
        chat_server.script.append(Reply(content='{"ok": true}'))
        await _llm(chat_server).complete_json(MESSAGES, SCHEMA, "verdict")
        assert chat_server.requests[0][1]["temperature"] == 0

    async def test_a_configured_temperature_is_sent(self, chat_server: ChatCompletionsServer) -> None:
        chat_server.script.append(Reply(content='{"ok": true}'))
        await _llm(chat_server, temperature=0.7).complete_json(MESSAGES, SCHEMA, "verdict")
        assert chat_server.requests[0][1]["temperature"] == 0.7

    async def test_none_leaves_the_parameter_out_for_models_that_reject_it(
        self, chat_server: ChatCompletionsServer
    ) -> None:
        chat_server.script.append(Reply(content='{"ok": true}'))
        await _llm(chat_server, temperature=None).complete_json(MESSAGES, SCHEMA, "verdict")
        assert "temperature" not in chat_server.requests[0][1]


@contextmanager
def _server(**options: Any) -> Iterator[ChatCompletionsServer]:
    server = ChatCompletionsServer(**options).start()
    try:
        yield server
    finally:
        server.stop()


def _formats(server: ChatCompletionsServer) -> list[str | None]:
    return [(body.get("response_format") or {}).get("type") for _, body in server.requests]


class TestFallback:
    """Servers without JSON-schema output, as each one refuses it (tests/servers/chat_completions.REFUSALS)."""

    @pytest.mark.parametrize("flavor", ["openai", "vllm", "llamacpp", "ollama", "ollama_native"])
    async def test_a_refused_json_schema_steps_down_to_json_mode(self, flavor: str) -> None:
        with _server(flavor=flavor, refuses=("json_schema",)) as server:
            server.script.append(Reply(content='{"ok": true}'))
            llm = _llm(server)
            result, usage = await llm.complete_json(MESSAGES, SCHEMA, "verdict")
            assert result == {"ok": True} and usage.prompt_tokens == 100, "a refusal costs no tokens"
            assert _formats(server) == ["json_schema", "json_object"] and llm.mode == "json_object"
            system = server.requests[1][1]["messages"][0]
            assert system["role"] == "system" and json.dumps(SCHEMA) in system["content"]

    @pytest.mark.parametrize("flavor", ["openai", "vllm", "llamacpp"])
    async def test_json_mode_refused_too_steps_down_to_the_prompt(self, flavor: str) -> None:
        with _server(flavor=flavor, refuses=("json_schema", "json_object"), plain="fenced") as server:
            server.script.append(Reply(content='{"ok": true}'))
            llm = _llm(server)
            assert (await llm.complete_json(MESSAGES, SCHEMA, "verdict"))[0] == {"ok": True}
            assert _formats(server) == ["json_schema", "json_object", None] and llm.mode == "prompt"
            assert "response_format" not in server.requests[2][1]

    @pytest.mark.parametrize("plain", ["fenced", "leading_text", "think"])
    async def test_plain_replies_are_read_out_of_their_wrapping(self, plain: str) -> None:
        with _server(flavor="llamacpp", refuses=("json_schema", "json_object"), plain=plain) as server:
            server.script.append(Reply(content='{"ok": true}'))
            assert (await _llm(server).complete_json(MESSAGES, SCHEMA, "verdict"))[0] == {"ok": True}

    async def test_a_server_that_ignores_response_format_is_checked_all_the_same(self) -> None:
        # Ollama before 0.5 dropped json_schema unread: free text comes back, and the schema check decides.
        with _server(ignores_format=True, plain="leading_text") as server:
            server.script += [Reply(content='{"ok": "yes"}'), Reply(content='{"ok": true}')]
            llm = _llm(server)
            assert (await llm.complete_json(MESSAGES, SCHEMA, "verdict"))[0] == {"ok": True}
            assert len(server.requests) == 2 and llm.mode == "json_schema", "a repair round, no fallback"

    async def test_the_mode_is_remembered_by_the_instance(self) -> None:
        with _server(flavor="llamacpp", refuses=("json_schema",)) as server:
            server.script += [Reply(content='{"ok": true}'), Reply(content='{"ok": false}')]
            llm = _llm(server)
            await llm.complete_json(MESSAGES, SCHEMA, "verdict")
            await llm.complete_json([{"role": "user", "content": "And this?"}], SCHEMA, "verdict")
            assert _formats(server) == ["json_schema", "json_object", "json_object"]
            fresh = _llm(server)
            assert fresh.mode == "json_schema", "per instance: another endpoint may differ"

    async def test_concurrent_refusals_step_down_once(self) -> None:
        with _server(flavor="openai", refuses=("json_schema",)) as server:
            server.script += [Reply(content='{"ok": true}')] * 2
            llm = _llm(server)
            await asyncio.gather(*(llm.complete_json([{"role": "user", "content": str(i)}], SCHEMA, "verdict")
                                   for i in range(2)))
            assert llm.mode == "json_object", "not pushed down to the prompt by the second refusal"
            assert sorted(map(str, _formats(server))) == ["json_object", "json_object", "json_schema", "json_schema"]

    async def test_other_bad_requests_are_still_permanent_errors(self, chat_server: ChatCompletionsServer) -> None:
        chat_server.script.append(Reply(status=400))
        llm = _llm(chat_server)
        with pytest.raises(LLMError, match="HTTP 400") as failure:
            await llm.complete_json(MESSAGES, SCHEMA, "verdict")
        assert failure.value.transient is False and llm.mode == "json_schema" and len(chat_server.requests) == 1
