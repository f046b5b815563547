"""Name → factory for data sources; optional provider modules are imported only when used."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from firmscout.config import Settings
from firmscout.embeddings.availability import semantic_wanted
from firmscout.sources.base import Source

if TYPE_CHECKING:
    from firmscout.embeddings.service import SemanticRetriever

SourceFactory = Callable[[Settings, async_sessionmaker[AsyncSession], "SemanticRetriever | None"], Source]


def build_semantic(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> SemanticRetriever | None:
    """The process's dense retriever, or None. `on` without the extra raises here, at start, with the fix;
    `auto` without it stays full-text only. Nothing heavy loads until a search finds stored vectors."""
    if not semantic_wanted(settings.semantic.enabled):
        return None
    from firmscout.embeddings.encoder import get_encoder
    from firmscout.embeddings.service import SemanticRetriever

    config = settings.semantic
    return SemanticRetriever(sessions, config, lambda: get_encoder(config.model, config.threads))


def _local_db(
    _settings: Settings, sessions: async_sessionmaker[AsyncSession], semantic: SemanticRetriever | None
) -> Source:
    module = import_module("firmscout.sources.local_db")
    source: Source = module.LocalDatabaseSource(sessions, semantic)
    return source


# Web search, LinkedIn and maps adapters register here when they exist; each needs keys, so none is
# enabled by default.
FACTORIES: dict[str, SourceFactory] = {"extruct_db": _local_db}


def build_sources(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], semantic: SemanticRetriever | None = None
) -> dict[str, Source]:
    return {name: factory(settings, sessions, semantic) for name, factory in FACTORIES.items()}
