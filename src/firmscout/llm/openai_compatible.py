"""Any OpenAI-compatible Chat Completions endpoint (OpenAI, Ollama, vLLM, llama.cpp server, ...) through the
official `openai` SDK, with structured output (JSON schema where the server supports it, stepping down to
JSON mode or the prompt where not: `llm.structured`), bounded concurrency, our own retries that honour
Retry-After, and a response cache."""

from __future__ import annotations

import asyncio
import logging
import time
from email.utils import parsedate_to_datetime
from typing import Any

import openai

from firmscout.errors import LLMError
from firmscout.llm.base import Usage
from firmscout.llm.cache import ResponseCache, cache_key
from firmscout.llm.structured import (
    Mode,
    lower_mode,
    parse_reply,
    rejects_format,
    request_messages,
    response_format,
)

log = logging.getLogger(__name__)


def _retry_after(exc: openai.APIStatusError) -> float | None:
    """The wait the server asked for: `retry-after-ms` (OpenAI), then `Retry-After` in seconds or as an
    HTTP date (RFC 9110 allows both)."""
    headers = exc.response.headers
    try:
        if (ms := headers.get("retry-after-ms")) is not None:
            return max(0.0, float(ms) / 1000)
        value = headers.get("retry-after")
        if value is None:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (ValueError, TypeError):
        return None


class OpenAICompatibleLLM:
    """`LLM` over Chat Completions. Error contract (see `llm.base.LLM`): 429, 5xx and timeouts are retried
    up to `max_attempts` times, then raise `LLMError(transient=True)`; a `Retry-After` longer than
    `max_wait_s` raises it at once instead of holding a worker. Other 4xx, an unreachable endpoint, a
    refusal, or a reply that is not schema-conforming JSON after one repair round raise
    `LLMError(transient=False)`.

    An error reply refusing the `response_format` sent (`structured.rejects_format`) is no failure: the
    request is sent again one mode lower (JSON schema → JSON mode → schema in the prompt), and this instance
    keeps that mode for every later request."""

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout_s: float = 60.0,
        max_attempts: int = 4,
        max_concurrency: int = 4,
        cache: ResponseCache | None = None,
        backoff_s: float = 1.0,
        max_wait_s: float = 60.0,
        temperature: float | None = 0.0,
    ) -> None:
        # max_retries=0: the SDK's own retries would hide Retry-After waits and attempt counts from us.
        self._client = openai.AsyncOpenAI(base_url=base_url, api_key=api_key or "not-needed", timeout=timeout_s,
                                          max_retries=0)
        self.model = model
        self._timeout_s = timeout_s
        self._max_attempts = max_attempts
        self._slots = asyncio.Semaphore(max_concurrency)
        self._cache = cache
        self._backoff_s = backoff_s
        self._max_wait_s = max_wait_s
        # None: the parameter is left out of the request (the SDK's `omit`), for models that accept only
        # their default temperature.
        self._temperature: float | openai.Omit = openai.omit if temperature is None else temperature
        self._mode: Mode = "json_schema"

    @property
    def mode(self) -> Mode:
        """How structured output is asked of this endpoint now (it only ever steps down)."""
        return self._mode

    async def complete_json(
        self, messages: list[dict[str, str]], schema: dict[str, Any], schema_name: str
    ) -> tuple[dict[str, Any], Usage]:
        key = cache_key(self.model, messages, schema)
        if self._cache is not None and (hit := await self._cache.get(key)) is not None:
            return hit, Usage()  # a cached answer costs no tokens
        content, usage = await self._call(messages, schema, schema_name)
        parsed, problem = parse_reply(content, schema)
        if parsed is None:
            # One repair round: show the model its reply and what is wrong with it.
            log.info("model %s: %s Asking once more.", self.model, problem)
            repair = [*messages, {"role": "assistant", "content": content},
                      {"role": "user", "content": f"{problem} Reply with the corrected JSON only."}]
            content, more = await self._call(repair, schema, schema_name)
            usage = usage + more
            parsed, problem = parse_reply(content, schema)
            if parsed is None:
                raise LLMError(f"model {self.model!r} replied twice without valid {schema_name} JSON: {problem}")
        # Only conforming replies are cached, so a bad one is asked again on the next run.
        if self._cache is not None:
            await self._cache.put(key, parsed)
        return parsed, usage

    async def _call(
        self, messages: list[dict[str, str]], schema: dict[str, Any], schema_name: str
    ) -> tuple[str, Usage]:
        for attempt in range(1, self._max_attempts + 1):
            wait: float | None = None
            try:
                return await self._send(messages, schema, schema_name)
            except openai.APIStatusError as exc:
                # The statuses the SDK itself would retry: request timeout, lock conflict, rate limit, 5xx.
                if exc.status_code not in (408, 409, 429) and exc.status_code < 500:
                    raise LLMError(
                        f"LLM endpoint refused the request (HTTP {exc.status_code}): {exc.message}. Check "
                        "FIRMSCOUT_LLM__MODEL and FIRMSCOUT_LLM__API_KEY."
                    ) from None
                wait, reason = _retry_after(exc), f"HTTP {exc.status_code}"
            except openai.APITimeoutError:
                reason = f"timeout after {self._timeout_s:g} s"
            except openai.APIConnectionError as exc:
                raise LLMError(
                    f"cannot reach the LLM endpoint {self._client.base_url} ({exc.__cause__ or exc}); "
                    "check FIRMSCOUT_LLM__BASE_URL"
                ) from None
            if attempt == self._max_attempts:
                raise LLMError(f"LLM endpoint failed {attempt} times (last: {reason})", transient=True)
            if wait is not None and wait > self._max_wait_s:
                raise LLMError(f"LLM endpoint asked to wait {wait:.0f} s ({reason}); the task will be retried later",
                               transient=True)
            delay = wait if wait is not None else self._backoff_s * 2 ** (attempt - 1)
            log.warning("LLM call failed (%s); retry %d in %.1f s", reason, attempt, delay)
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def _send(
        self, messages: list[dict[str, str]], schema: dict[str, Any], schema_name: str
    ) -> tuple[str, Usage]:
        """One request in the current mode, sent again lower while the server refuses the mode (at most
        twice: the loop ends at `prompt`, which sends no response_format to refuse)."""
        while True:
            mode = self._mode
            fmt = response_format(mode, schema, schema_name)
            try:
                async with self._slots:
                    reply = await self._client.chat.completions.create(
                        model=self.model,
                        messages=request_messages(mode, messages, schema, schema_name),  # type: ignore[arg-type]
                        response_format=openai.omit if fmt is None else fmt,  # type: ignore[arg-type]
                        temperature=self._temperature,
                    )
                return self._content(reply)
            except openai.APIStatusError as exc:
                if mode == "prompt" or not rejects_format(exc.status_code, f"{exc.message} {exc.body}"):
                    raise
                self._step_down(mode, exc)

    def _step_down(self, refused: Mode, exc: openai.APIStatusError) -> None:
        # Concurrent requests may all be refused in one mode: step down once from it, never twice.
        if self._mode != refused:
            return
        self._mode = lower_mode(refused)
        log.warning("LLM endpoint %s refused response_format %s (HTTP %d: %s); model %s gets %s from now on",
                    self._client.base_url, refused, exc.status_code, exc.message, self.model,
                    "JSON mode and the schema in the prompt" if self._mode == "json_object"
                    else "the schema in the prompt")

    def _content(self, reply: Any) -> tuple[str, Usage]:
        message = reply.choices[0].message if reply.choices else None
        if message is not None and getattr(message, "refusal", None):
            raise LLMError(f"model {self.model!r} refused to answer: {message.refusal}")
        if message is None or not message.content:
            raise LLMError(f"model {self.model!r} returned an empty reply")
        usage = Usage(reply.usage.prompt_tokens, reply.usage.completion_tokens) if reply.usage else Usage()
        return message.content, usage
