"""The queue contract: enqueue inside the caller's transaction; run a worker with an injected handler."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

# handler(task_id, last_attempt): a handler that raises is retried later; on the last attempt it must
# settle the task itself (fail it) instead of raising, so no task stays in_progress for ever.
Handler = Callable[[str, bool], Awaitable[None]]


class JobQueue(Protocol):
    worker_id: str

    async def enqueue(self, session: AsyncSession, task_id: str, *, new: bool = False) -> None:
        """Queue `task_id` in the caller's open transaction: if it rolls back, no job exists. `new`: the task
        was inserted in this transaction, so it has no lease and no job yet, and the statements that guard a
        re-queue against those are skipped (a create costs fewer statements inside the write lock)."""
        ...

    async def run_worker(self, handler: Handler, stop: asyncio.Event) -> None:
        """Run jobs with `handler(task_id)` until `stop` is set, then return after in-flight jobs finish."""
        ...
