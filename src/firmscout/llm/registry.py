"""Settings → LLM → grader. Adapters are imported lazily, so a process that grades locally never imports an
LLM SDK; vendors (OpenAI, Ollama, vLLM, ...) are only a base URL of the one OpenAI-compatible adapter."""

from __future__ import annotations

from typing import TYPE_CHECKING

from firmscout.config import Settings
from firmscout.errors import LLMError

if TYPE_CHECKING:
    from firmscout.llm.base import LLM
    from firmscout.llm.grader import LLMGrader
    from firmscout.llm.list_extraction import LLMListReader
    from firmscout.llm.planner import LLMPlanner


def _openai_compatible(settings: Settings) -> LLM:
    from firmscout.llm.cache import ResponseCache
    from firmscout.llm.openai_compatible import OpenAICompatibleLLM

    llm = settings.llm
    assert llm.base_url and llm.model  # checked by build_llm
    return OpenAICompatibleLLM(
        base_url=llm.base_url, model=llm.model,
        api_key=llm.api_key.get_secret_value() if llm.api_key else None,
        timeout_s=llm.timeout_s, max_attempts=llm.max_attempts, max_wait_s=llm.max_wait_s,
        max_concurrency=llm.max_concurrency,
        temperature=None if llm.temperature == "omit" else llm.temperature,
        cache=ResponseCache(settings.data_dir / "llm-cache.sqlite") if llm.cache else None,
    )


def build_llm(settings: Settings) -> LLM | None:
    """The configured LLM, or None when neither endpoint nor model is set (the local method grades)."""
    llm = settings.llm
    if not llm.base_url and not llm.model:
        return None
    if not llm.model:
        raise LLMError("FIRMSCOUT_LLM__BASE_URL is set but FIRMSCOUT_LLM__MODEL is not: set the model name "
                       "(e.g. llama3.1:8b for Ollama), or unset the base URL to grade without an LLM.")
    if not llm.base_url:
        raise LLMError("FIRMSCOUT_LLM__MODEL is set but FIRMSCOUT_LLM__BASE_URL is not: set the endpoint "
                       "(e.g. https://api.openai.com/v1 or http://127.0.0.1:11434/v1 for Ollama), or unset "
                       "the model to grade without an LLM.")
    return _openai_compatible(settings)


def llm_roles(settings: Settings) -> tuple[LLMGrader | None, LLMPlanner | None]:
    """The grader and the query planner over one shared LLM (one concurrency bound, one cache), or None for
    each role the LLM does not play: no LLM configured, or `FIRMSCOUT_LLM__PLAN_QUERIES=false`."""
    llm = build_llm(settings)
    if llm is None:
        return None, None
    from firmscout.llm.grader import LLMGrader
    from firmscout.llm.planner import LLMPlanner

    assert settings.llm.model  # checked by build_llm
    planner = LLMPlanner(llm, settings.llm.model) if settings.llm.plan_queries else None
    return LLMGrader(llm, batch_size=settings.llm.batch_size), planner


def llm_grader(settings: Settings) -> LLMGrader | None:
    return llm_roles(settings)[0]


def llm_planner(settings: Settings) -> LLMPlanner | None:
    return llm_roles(settings)[1]


def llm_list_reader(settings: Settings) -> LLMListReader | None:
    """What reads list pages' companies for `web_search` when an LLM is configured; None: anchor texts do."""
    llm = build_llm(settings)
    if llm is None:
        return None
    from firmscout.llm.list_extraction import LLMListReader

    return LLMListReader(llm)
