"""Composition root for workers: build the pipeline's adapters and hand `run_task` to the queue."""

from __future__ import annotations

import asyncio
from functools import partial

from firmscout.llm.registry import llm_roles
from firmscout.pipeline import local
from firmscout.pipeline.runner import PipelineDeps, run_task
from firmscout.pipeline.stages.evaluate import Grader, HybridGrader, LocalGrader
from firmscout.tasks.runtime import Runtime
from firmscout.web.site import read_website


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


async def run_worker(runtime: Runtime, stop: asyncio.Event) -> None:
    await runtime.queue.run_worker(partial(run_task, pipeline_deps(runtime)), stop)
