"""Settings → grader: the LLM grader when an endpoint and model are configured, else the local method."""

from __future__ import annotations

from firmscout.config import Settings
from firmscout.llm.cache import ResponseCache
from firmscout.llm.grader import LLMGrader
from firmscout.llm.openai_compatible import OpenAICompatibleLLM


def llm_grader(settings: Settings) -> LLMGrader | None:
    llm = settings.llm
    if not (llm.base_url and llm.model):
        return None
    return LLMGrader(
        OpenAICompatibleLLM(
            base_url=llm.base_url, model=llm.model,
            api_key=llm.api_key.get_secret_value() if llm.api_key else None,
            timeout_s=llm.timeout_s, max_attempts=llm.max_attempts, max_concurrency=llm.max_concurrency,
            cache=ResponseCache(settings.data_dir / "llm-cache.sqlite") if llm.cache else None,
        ),
        batch_size=llm.batch_size,
    )
