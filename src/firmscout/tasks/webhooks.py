"""Send a finished task's webhook once: `task.completed` when it is done (any stop reason), `task.failed` when
it failed. Called after the finishing transaction committed, so an unfinished task never sends; the outcome is
kept on the task (`webhook_status`), so a re-run of its job does not send a delivered event again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from firmscout.storage.db import read_only, unit_of_work
from firmscout.storage.repositories import tasks as task_repo
from firmscout.storage.views import TaskView, view_of_task
from firmscout.web.webhook import WebhookSender

log = logging.getLogger(__name__)
# The task as GET returns it: rendered by the API's wire model, injected so this layer never imports `api`.
TaskRender = Callable[[TaskView], dict[str, Any]]
EVENTS = {"done": "task.completed", "failed": "task.failed"}


def event_body(event: str, task: dict[str, Any], sent_at: datetime) -> bytes:
    return json.dumps({"event": event, "task": task, "sent_at": sent_at.isoformat()},
                      separators=(",", ":"), ensure_ascii=False).encode()


async def deliver(
    sessions: async_sessionmaker[AsyncSession], sender: WebhookSender, render: TaskRender, task_id: str
) -> None:
    """Send the task's event if it has a webhook, has finished, and none was sent yet; record how it went."""
    async with read_only(sessions) as session:
        task = await task_repo.get_task(session, task_id)
    if task is None or task.webhook_status is not None or task.status not in EVENTS:
        return
    if not task.webhook_url or not task.webhook_secret:
        return
    event = EVENTS[task.status]
    body = event_body(event, render(view_of_task(task)), datetime.now(UTC))
    outcome = await sender.send(task.webhook_url, task.webhook_secret, event, body)
    if outcome.status != "delivered":
        log.warning("task %s: webhook %s %s", task_id, event, outcome.status)
    async with unit_of_work(sessions) as session:
        await task_repo.update_task(
            session, task_id, webhook_status=outcome.status[:512], webhook_attempts=outcome.attempts
        )
