"""The data sources a process searches, built from settings; provider modules are imported only when used."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from firmscout.config import Settings
from firmscout.embeddings.availability import semantic_wanted
from firmscout.sources.base import Source
from firmscout.sources.search.base import PlaceSearch, SearchProvider

if TYPE_CHECKING:
    from firmscout.embeddings.service import SemanticRetriever
    from firmscout.sources.web_search import ListReader
    from firmscout.web.pages import PageReader


def build_semantic(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> SemanticRetriever | None:
    """The process's dense retriever, or None. `on` without the extra raises here, at start, with the fix;
    `auto` without it stays full-text only. Nothing heavy loads until a search finds stored vectors."""
    if not semantic_wanted(settings.semantic.enabled):
        return None
    from firmscout.embeddings.encoder import get_encoder
    from firmscout.embeddings.service import SemanticRetriever

    config = settings.semantic
    return SemanticRetriever(sessions, config, lambda: get_encoder(config.model, config.threads))


def build_sources(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], semantic: SemanticRetriever | None = None,
    pages: PageReader | None = None, provider: SearchProvider | None = None, places: PlaceSearch | None = None,
    lists: ListReader | None = None,  # reads list pages' companies for web_search (an LLM); None: anchor texts
) -> dict[str, Source]:
    """The data sources this process can search, by their wire name: the company database always, and
    `web_search` through `provider` (`search.registry.build_provider`; the caller closes it), reading the
    pages results name through `pages` when web reading is on; `maps` through `places`
    (`search.registry.build_places`; the caller closes it too)."""
    from firmscout.sources.local_db import SOURCE_NAME, LocalDatabaseSource

    sources: dict[str, Source] = {SOURCE_NAME: LocalDatabaseSource(sessions, semantic)}
    if provider is not None:
        from firmscout.sources.web_search import WebSearchSource

        for source in (WebSearchSource(provider, pages, lists=lists), WebSearchSource(provider, pages, linkedin=True)):
            sources[source.name] = source
    if places is not None:
        from firmscout.sources.maps import MapsSource

        sources[MapsSource.name] = MapsSource(places)
    return sources
