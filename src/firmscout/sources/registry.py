"""Name → factory for data sources; optional provider modules are imported only when used."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from firmscout.config import Settings
from firmscout.sources.base import Source

SourceFactory = Callable[[Settings, async_sessionmaker[AsyncSession]], Source]


def _local_db(_settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> Source:
    module = import_module("firmscout.sources.local_db")
    source: Source = module.LocalDatabaseSource(sessions)
    return source


# Web search, LinkedIn and maps adapters register here when they exist; each needs keys, so none is
# enabled by default.
FACTORIES: dict[str, SourceFactory] = {"extruct_db": _local_db}


def build_sources(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> dict[str, Source]:
    return {name: factory(settings, sessions) for name, factory in FACTORIES.items()}
