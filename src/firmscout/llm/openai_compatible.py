"""Any OpenAI-compatible Chat Completions endpoint (OpenAI, Ollama, vLLM, llama.cpp server, ...) through the
official `openai` SDK, with JSON-schema structured output, bounded concurrency, our own retries that honour
Retry-After, and a response cache."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import openai

from firmscout.errors import LLMError
from firmscout.llm.base import Usage
from firmscout.llm.cache import ResponseCache, cache_key

log = logging.getLogger(__name__)


def _retry_after(exc: openai.APIStatusError) -> float | None:
    value = exc.response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class OpenAICompatibleLLM:
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
    ) -> None:
        # max_retries=0: the SDK's own retries would hide Retry-After waits and attempt counts from us.
        self._client = openai.AsyncOpenAI(base_url=base_url, api_key=api_key or "not-needed", timeout=timeout_s,
                                          max_retries=0)
        self.model = model
        self._max_attempts = max_attempts
        self._slots = asyncio.Semaphore(max_concurrency)
        self._cache = cache
        self._backoff_s = backoff_s

    async def complete_json(
        self, messages: list[dict[str, str]], schema: dict[str, Any], schema_name: str
    ) -> tuple[dict[str, Any], Usage]:
        key = cache_key(self.model, messages, schema)
        if self._cache is not None and (hit := await self._cache.get(key)) is not None:
            return hit, Usage()  # a cached answer costs no tokens
        content, usage = await self._call(messages, schema, schema_name)
        try:
            parsed = json.loads(content)
        except ValueError:
            # One repair round: show the model its reply and ask again for valid JSON only.
            repair = [*messages, {"role": "assistant", "content": content},
                      {"role": "user", "content": "That was not valid JSON for the schema. Reply with the JSON only."}]
            content, more = await self._call(repair, schema, schema_name)
            usage = usage + more
            try:
                parsed = json.loads(content)
            except ValueError:
                raise LLMError(f"model {self.model!r} did not return valid JSON twice in a row") from None
        if not isinstance(parsed, dict):
            raise LLMError(f"model {self.model!r} returned JSON that is not an object")
        if self._cache is not None:
            await self._cache.put(key, parsed)
        return parsed, usage

    async def _call(
        self, messages: list[dict[str, str]], schema: dict[str, Any], schema_name: str
    ) -> tuple[str, Usage]:
        response_format: Any = {"type": "json_schema",
                                "json_schema": {"name": schema_name, "schema": schema, "strict": True}}
        for attempt in range(1, self._max_attempts + 1):
            wait: float | None = None
            try:
                async with self._slots:
                    reply = await self._client.chat.completions.create(
                        model=self.model, messages=messages,  # type: ignore[arg-type]
                        response_format=response_format, temperature=0,
                    )
                content = reply.choices[0].message.content if reply.choices else None
                if not content:
                    raise LLMError(f"model {self.model!r} returned an empty reply")
                usage = Usage(reply.usage.prompt_tokens, reply.usage.completion_tokens) if reply.usage else Usage()
                return content, usage
            except (openai.RateLimitError, openai.InternalServerError) as exc:
                wait, reason = _retry_after(exc), f"HTTP {exc.status_code}"
            except openai.APIStatusError as exc:
                if exc.status_code < 500:
                    raise LLMError(
                        f"LLM endpoint refused the request (HTTP {exc.status_code}): {exc.message}. Check "
                        "FIRMSCOUT_LLM__MODEL and FIRMSCOUT_LLM__API_KEY."
                    ) from None
                wait, reason = _retry_after(exc), f"HTTP {exc.status_code}"
            except openai.APITimeoutError:
                reason = "timeout"
            except openai.APIConnectionError as exc:
                raise LLMError(
                    f"cannot reach the LLM endpoint ({exc.__cause__ or exc}); check FIRMSCOUT_LLM__BASE_URL"
                ) from None
            if attempt == self._max_attempts:
                raise LLMError(f"LLM endpoint failed {attempt} times (last: {reason})", transient=True)
            delay = wait if wait is not None else self._backoff_s * 2 ** (attempt - 1)
            log.warning("LLM call failed (%s); retry %d in %.1f s", reason, attempt, delay)
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")
