"""The LLM contract."""

from __future__ import annotations

from typing import Any, Protocol

from firmscout.entities import TokenUsage
from firmscout.errors import LLMError

__all__ = ["LLM", "LLMError", "Usage"]


# Token counts are shared with the pipeline, which stores them on the task.
Usage = TokenUsage


class LLM(Protocol):
    """Structured output from a chat model: the reply as a JSON object that conforms to `schema`, and the
    tokens it cost (zero when it came from a cache).

    Error contract: `LLMError(transient=True)` when a retry later may succeed (rate limit, server error,
    timeout) after the adapter's own retries; `LLMError(transient=False)` when it will not (bad key,
    unknown model, unreachable endpoint, refusal, replies that never conform).
    """

    async def complete_json(
        self, messages: list[dict[str, str]], schema: dict[str, Any], schema_name: str
    ) -> tuple[dict[str, Any], Usage]: ...
