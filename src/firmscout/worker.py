"""Composition root for workers: build the pipeline's adapters and hand `run_task` to the queue."""

from __future__ import annotations

import asyncio
from functools import partial

from firmscout.llm.registry import llm_roles
from firmscout.pipeline import local
from firmscout.pipeline.runner import PipelineDeps, run_task
from firmscout.pipeline.stages.evaluate import Grader, HybridGrader, LocalGrader
from firmscout.tasks import webhooks
from firmscout.tasks.runtime import Runtime
from firmscout.tasks.webhooks import TaskRender
from firmscout.web.site import read_website
from firmscout.web.webhook import WebhookSender


def pipeline_deps(runtime: Runtime) -> PipelineDeps:
    grader, planner = llm_roles(runtime.settings)
    web = runtime.settings.web
    pages = runtime.pages
    return PipelineDeps(
        sessions=runtime.sessions,
        sources=runtime.sources,
        grader=grader or local_grader(runtime),
        settings=runtime.settings.pipeline,
        max_attempts=runtime.settings.worker.max_attempts,
        planner=planner,
        website=partial(read_website, pages, max_pages=web.pages_per_candidate) if pages is not None else None,
        pages_per_task=web.pages_per_task,
        searches_per_task=web.searches_per_task,
        # Only an LLM spends tokens: without one a token budget has nothing to cap.
        tokens_per_task=runtime.settings.llm.tokens_per_task if grader is not None else None,
        pages_per_candidate=web.pages_per_candidate,
    )


def local_grader(runtime: Runtime) -> Grader:
    """The no-LLM grader; with dense retrieval configured it also takes embedding evidence for topics."""
    if runtime.semantic is None:
        return LocalGrader()
    semantic = runtime.settings.semantic
    return HybridGrader(runtime.semantic, semantic.topic_similarity, semantic.model)


def warm_up() -> None:
    """Pay the pipeline's one-off start-up costs before taking tasks, not inside the first one."""
    local.warm_up()


async def run_worker(runtime: Runtime, stop: asyncio.Event, *, render: TaskRender | None = None) -> None:
    """`render`: the task as GET returns it (`api.schemas.task_render`); without it no webhook is sent."""
    deps = pipeline_deps(runtime)
    if render is None:
        await runtime.queue.run_worker(partial(run_task, deps), stop)
        return
    sender = WebhookSender(runtime.settings.web, runtime.settings.webhook)
    try:
        await runtime.queue.run_worker(partial(_run_and_notify, deps, sender, render), stop)
    finally:
        await sender.aclose()


async def _run_and_notify(
    deps: PipelineDeps, sender: WebhookSender, render: TaskRender, task_id: str, last_attempt: bool = False
) -> None:
    # After run_task returned, its finishing transaction has committed; a raise (retry later) sends nothing.
    await run_task(deps, task_id, last_attempt)
    await webhooks.deliver(deps.sessions, sender, render, task_id)
