"""The LLM contract."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from firmscout.errors import LLMError

__all__ = ["LLM", "LLMError", "Usage"]


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.prompt_tokens + other.prompt_tokens, self.completion_tokens + other.completion_tokens)


class LLM(Protocol):
    """Structured output from a chat model.

    Error contract: `LLMError(transient=True)` when a retry later may succeed (rate limit, server error,
    timeout) after the adapter's own retries; `LLMError(transient=False)` when it will not (bad key,
    unknown model, unreachable endpoint, replies that never parse).
    """

    async def complete_json(
        self, messages: list[dict[str, str]], schema: dict[str, Any], schema_name: str
    ) -> tuple[dict[str, Any], Usage]: ...
