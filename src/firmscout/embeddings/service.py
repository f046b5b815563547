"""Embed companies whose text changed, and answer nearest-company queries from an in-process index.

Vectors are stored once per company and model (`company_embedding`), keyed by a hash of the embedded
text, so re-running the embedding skips every unchanged company, and a run cut off half-way resumes:
each page of companies is committed on its own.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from firmscout.config import SemanticSettings
from firmscout.embeddings.index import Mask, VectorIndex
from firmscout.embeddings.text import company_text, text_hash
from firmscout.entities import Constraints
from firmscout.storage.db import read_only, unit_of_work
from firmscout.storage.repositories import embeddings as embedding_repo

log = logging.getLogger(__name__)

PAGE = 1000  # companies read, embedded and committed per step


class TextEncoder(Protocol):
    def encode(self, texts: Sequence[str], batch_size: int = ...) -> npt.NDArray[np.float32]: ...


@dataclass(frozen=True)
class EmbedProgress:
    companies_seen: int
    embedded: int
    unchanged: int
    seconds: float

    @property
    def texts_per_second(self) -> float:
        return self.embedded / self.seconds if self.seconds > 0 else 0.0


async def embed_companies(
    sessions: async_sessionmaker[AsyncSession],
    encoder: TextEncoder,
    settings: SemanticSettings,
    *,
    progress: Callable[[EmbedProgress], None] | None = None,
    page: int = PAGE,
) -> EmbedProgress:
    """Embed every company that has no vector for `settings.model` or whose text changed since."""
    started = time.perf_counter()
    seen = embedded = unchanged = 0
    after = 0
    while True:
        async with read_only(sessions) as session:
            subjects = await embedding_repo.subjects_after(session, settings.model, after_id=after, limit=page)
        if not subjects:
            break
        after = subjects[-1].id
        todo: list[tuple[int, str, str]] = []
        for s in subjects:
            text = company_text(
                name=s.name, industries=s.industries, tags=s.tags, products=s.products, description=s.description,
                full_description=s.full_description, max_chars=settings.max_chars,
            )
            digest = text_hash(text)
            if digest == s.stored_hash:
                unchanged += 1
            else:
                todo.append((s.id, digest, text))
        if todo:
            # The model is CPU work: run it in a thread so an import inside the API keeps serving requests.
            vectors = await asyncio.to_thread(encoder.encode, [t for _, _, t in todo], settings.batch_size)
            rows = [(cid, digest, int(vec.shape[0]), vec.astype("<f4").tobytes())
                    for (cid, digest, _), vec in zip(todo, vectors, strict=True)]
            async with unit_of_work(sessions) as session:
                await embedding_repo.upsert_vectors(session, settings.model, rows)
            embedded += len(rows)
        seen += len(subjects)
        if progress is not None:
            progress(EmbedProgress(seen, embedded, unchanged, time.perf_counter() - started))
    return EmbedProgress(seen, embedded, unchanged, time.perf_counter() - started)


@dataclass(frozen=True)
class _Loaded:
    index: VectorIndex
    countries: npt.NDArray[Any]
    founded: npt.NDArray[np.float64]
    employees: npt.NDArray[np.float64]
    statuses: npt.NDArray[Any]
    row_of: dict[str, int]  # domain → row


def _build(rows: Sequence[embedding_repo.IndexRow]) -> _Loaded:
    ids = np.fromiter((r.company_id for r in rows), dtype=np.int64, count=len(rows))
    matrix = np.frombuffer(b"".join(r.vector for r in rows), dtype="<f4").reshape(len(rows), -1) if rows else (
        np.zeros((0, 1), dtype=np.float32))
    nan = float("nan")
    return _Loaded(
        index=VectorIndex(ids, matrix),
        countries=np.array([r.country for r in rows], dtype=object),
        founded=np.array([nan if r.founded_year is None else r.founded_year for r in rows], dtype=np.float64),
        employees=np.array([nan if r.employees is None else r.employees for r in rows], dtype=np.float64),
        statuses=np.array([(r.status or "").strip().lower() for r in rows], dtype=object),
        row_of={r.domain: i for i, r in enumerate(rows)},
    )


def _within(values: npt.NDArray[np.float64], low: int | None, high: int | None) -> Mask:
    """Unknown values (NaN) pass, as in the full-text search: the grader decides what unknown is worth."""
    ok: Mask = np.ones(len(values), dtype=bool)
    known = ~np.isnan(values)
    if low is not None:
        ok &= ~known | (values >= low)
    if high is not None:
        ok &= ~known | (values <= high)
    return ok


def constraint_mask(loaded: _Loaded, c: Constraints) -> Mask | None:
    """Rows a dense search may return: country, size, founding year and status as hard filters."""
    if not (c.countries or c.statuses or c.founded_after is not None or c.founded_before is not None
            or c.min_employees is not None or c.max_employees is not None):
        return None
    mask = _within(loaded.founded, c.founded_after, c.founded_before) & _within(
        loaded.employees, c.min_employees, c.max_employees
    )
    if c.countries:
        mask &= np.isin(loaded.countries, list(c.countries))
    if c.statuses:
        mask &= (loaded.statuses == "") | np.isin(loaded.statuses, list(c.statuses))
    return mask


class SemanticRetriever:
    """Nearest companies to a query text, by cosine of MiniLM vectors, with the structured filters applied.

    The index is the stored vectors in one numpy matrix, loaded on first use and reloaded when the
    database's vectors or companies changed (checked at most every `refresh_s`). With no stored vectors
    it answers nothing and never loads the model, so `auto` costs nothing until `companies embed` ran.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: SemanticSettings,
        encoder_factory: Callable[[], TextEncoder],
    ) -> None:
        self._sessions = sessions
        self.settings = settings
        self._encoder_factory = encoder_factory
        self._encoder: TextEncoder | None = None
        self._loaded: _Loaded | None = None
        self._fingerprint: tuple[Any, ...] | None = None
        self._checked_at = float("-inf")
        self._lock = asyncio.Lock()
        self._queries: OrderedDict[str, npt.NDArray[np.float32]] = OrderedDict()
        self._query_lock = threading.Lock()  # searches run in worker threads

    async def _current(self) -> _Loaded | None:
        async with self._lock:
            now = time.monotonic()
            if self._loaded is not None and now - self._checked_at < self.settings.refresh_s:
                return self._loaded
            async with read_only(self._sessions) as session:
                fingerprint = await embedding_repo.fingerprint(session, self.settings.model)
                self._checked_at = now
                if self._loaded is not None and fingerprint == self._fingerprint:
                    return self._loaded
                rows = await embedding_repo.index_rows(session, self.settings.model)
            self._loaded = await asyncio.to_thread(_build, rows)
            self._fingerprint = fingerprint
            log.info("semantic index loaded: %d vectors of model %s", len(rows), self.settings.model)
            return self._loaded

    async def available(self) -> bool:
        loaded = await self._current()
        return loaded is not None and len(loaded.index) > 0

    def _query_vector(self, query: str) -> npt.NDArray[np.float32]:
        with self._query_lock:
            return self._query_vector_locked(query)

    def _query_vector_locked(self, query: str) -> npt.NDArray[np.float32]:
        vector = self._queries.get(query)
        if vector is None:
            if self._encoder is None:
                self._encoder = self._encoder_factory()
            vector = self._encoder.encode([query], 1)[0]
            self._queries[query] = vector
            if len(self._queries) > 256:
                self._queries.popitem(last=False)
        return vector

    async def nearest(self, query: str, constraints: Constraints, k: int) -> list[tuple[int, float]]:
        """Up to `k` (company id, cosine) pairs, best first, none below `min_similarity`; empty when no
        vectors are stored."""
        loaded = await self._current()
        if loaded is None or not len(loaded.index) or k <= 0 or not query.strip():
            return []

        def search() -> list[tuple[int, float]]:
            vector = self._query_vector(query)
            hits = loaded.index.search(vector, k, constraint_mask(loaded, constraints))
            return [(n.id, n.score) for n in hits if n.score >= self.settings.min_similarity]

        return await asyncio.to_thread(search)

    async def similarity(self, text: str, domains: Sequence[str]) -> dict[str, float]:
        """Cosine between `text` and each company's stored vector, for the domains that have one."""
        loaded = await self._current()
        if loaded is None or not text.strip():
            return {}
        rows = [(d, loaded.row_of[d]) for d in domains if d in loaded.row_of]
        if not rows:
            return {}

        def compute() -> dict[str, float]:
            vector = self._query_vector(text)
            scores = loaded.index.matrix[[i for _, i in rows]] @ vector
            return {d: float(score) for (d, _), score in zip(rows, scores, strict=True)}

        return await asyncio.to_thread(compute)
