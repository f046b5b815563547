"""Company vectors for hybrid retrieval: embed on demand (`companies embed`) and after imports when enabled."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from firmscout.config import SemanticSettings
from firmscout.embeddings.availability import SemanticUnavailable, semantic_installed, semantic_wanted
from firmscout.storage.repositories import embeddings as embedding_repository

if TYPE_CHECKING:  # numpy and torch load only when something is embedded
    from firmscout.embeddings.service import EmbedProgress


async def embed_all(
    sessions: async_sessionmaker[AsyncSession],
    settings: SemanticSettings,
    *,
    progress: Callable[[EmbedProgress], None] | None = None,
) -> EmbedProgress:
    """Embed every company without a current vector; resumable, and unchanged companies are skipped."""
    if not semantic_installed():
        raise SemanticUnavailable(
            "Embedding companies needs the semantic extra: run `pip install 'firmscout[semantic]'`."
        )
    from firmscout.embeddings.encoder import get_encoder
    from firmscout.embeddings.service import embed_companies

    # Loading torch and the weights blocks for a while: off the event loop.
    encoder = await asyncio.to_thread(get_encoder, settings.model, settings.threads)
    return await embed_companies(sessions, encoder, settings, progress=progress)


async def should_embed_after_import(sessions: async_sessionmaker[AsyncSession], settings: SemanticSettings) -> bool:
    """`on`: always; `auto`: when the extra is installed and vectors already exist (someone opted in by
    running `companies embed` once); `off`: never."""
    if not semantic_wanted(settings.enabled):
        return False
    if settings.enabled == "on":
        return True
    async with sessions() as session:
        return await embedding_repository.count_vectors(session, settings.model) > 0
