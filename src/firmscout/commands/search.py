"""`search`: create a task through the task service, run it here with a live funnel, return results."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from firmscout.api.schemas import CreateDiscoveryTask, DiscoveryTaskResult, Prices, Usage
from firmscout.config import Settings
from firmscout.entities import Criterion
from firmscout.errors import FirmscoutError, InvalidField
from firmscout.storage.views import TaskView
from firmscout.tasks import accounts
from firmscout.tasks.runtime import Runtime, open_runtime
from firmscout.tasks.service import NewTask
from firmscout.tasks.shortfall import shortfall
from firmscout.worker import run_worker

console = Console(stderr=True, soft_wrap=True)
POLL_S = 0.2


def _validate(query: str, n: int, criteria: list[dict[str, Any]] | None, exclude: list[str]) -> CreateDiscoveryTask:
    # The CLI validates with the API's own request model, so both reject the same input the same way.
    from pydantic import ValidationError

    try:
        return CreateDiscoveryTask(query=query, desired_num_results=n, criteria=criteria, exclude_domains=exclude)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidField(tuple(first["loc"]), first["msg"]) from None


async def run_search(
    settings: Settings, query: str, *, n: int, criteria: list[dict[str, Any]] | None, exclude: list[str],
    show_progress: bool, sources: list[str] | None = None,
) -> list[dict[str, Any]]:
    body = _validate(query, n, criteria, exclude)
    async with open_runtime(settings, seed=True) as runtime, contextlib.AsyncExitStack() as stack:
        try:
            stack.enter_context(runtime.own())
        except FirmscoutError:
            # A running `serve` owns this database: its worker runs the task we queue.
            console.print("A Firmscout server works this database; its worker runs this search.", highlight=False)
        else:
            stop = asyncio.Event()
            worker = asyncio.create_task(run_worker(runtime, stop))
            stack.push_async_callback(_stop, stop, worker)
        caller = await accounts.local_caller(runtime.sessions)
        task = await runtime.service.create(
            caller,
            NewTask(
                query=body.query,
                desired_num_results=body.desired_num_results,
                criteria=[Criterion(**c.model_dump()) for c in body.criteria] if body.criteria else None,
                exclude_domains=body.exclude_domains,
                auto_data_sources=not sources,
                data_sources=sources or (),
            ),
        )
        task = await _follow(runtime, caller, task.id, show_progress)
        if task.status == "failed":
            raise FirmscoutError(f"task {task.id} failed: {task.error}")
        page = await runtime.service.results(caller, task.id, offset=0, limit=250)
        if show_progress:
            console.print(
                f"Task {task.id}: {task.num_results} results from {task.num_results_discovered} candidates "
                f"({task.num_results_evaluated} graded; {task.search_requests} web searches, {task.pages_fetched} "
                f"pages{_cost(Usage.of(task, Prices.of(settings)))}); stopped: {task.stop_reason}"
                + (f" ({task.error})" if task.error else "") + ".",
                highlight=False
            )
            for warning in task.warnings or ():
                console.print(f"Warning: {warning}", highlight=False)
            console.print("Criteria: " + "; ".join(f"{c['key']}: {c['criterion']}" for c in task.criteria),
                          highlight=False)
        short = shortfall(page.task, await runtime.service.plan(caller, task.id))
        if short is not None:
            # On stderr in every format: an empty JSON list says nothing about why it is empty.
            console.print(short, highlight=False)
        return [DiscoveryTaskResult.from_row(r).model_dump(mode="json") for r in page.results]


def _cost(usage: Usage) -> str:
    """The closing line's cost, e.g. ", ≈ $0.0420, $0.0017 per result"; empty when no price is set."""
    if usage.estimated_cost_usd is None:
        return ""
    per_result = f", ${usage.cost_per_result_usd:.4f} per result" if usage.cost_per_result_usd is not None else ""
    return f", ≈ ${usage.estimated_cost_usd:.4f}{per_result}"


async def _stop(stop: asyncio.Event, worker: asyncio.Task[None]) -> None:
    stop.set()
    await worker


async def _follow(runtime: Runtime, caller: accounts.Caller, task_id: str, show_progress: bool) -> TaskView:
    """Poll the task until it ends, drawing its funnel."""
    with Progress(
        TextColumn("{task.description:>10}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[spent]}"),
        console=console, disable=not show_progress, transient=True,
    ) as bar:
        rows = {name: bar.add_task(name, total=None, spent="")
                for name in ("discovered", "enriched", "evaluated", "results")}
        while True:
            task = await runtime.service.get(caller, task_id)
            counts = (task.num_results_discovered, task.num_results_enriched, task.num_results_evaluated,
                      task.num_results)
            for (name, row), value in zip(rows.items(), counts, strict=True):
                total = task.desired_num_results if name == "results" else max(task.num_results_discovered, 1)
                bar.update(row, completed=value, total=total)
            # What the web costs as it goes: search requests beside the candidates, pages beside enrichment.
            bar.update(rows["discovered"], spent=f"{task.search_requests} searches" if task.search_requests else "")
            bar.update(rows["enriched"], spent=f"{task.pages_fetched} pages" if task.pages_fetched else "")
            if task.status in ("done", "failed"):
                return task
            await asyncio.sleep(POLL_S)


def print_table(rows: list[dict[str, Any]]) -> None:
    """One block per company: a summary line, then each criterion's grade and explanation. Readable at any
    terminal width, where a table would squeeze the explanations into a narrow column."""
    out = Console(soft_wrap=True)
    if not rows:
        out.print("No company met the criteria.")
        return
    for i, row in enumerate(rows, 1):
        hq = ", ".join(p for p in (row.get("hq_city"), row.get("hq_country")) if p) or "HQ unknown"
        out.print(f"[bold]{i}. {row['company_name']}[/bold]  {row['company_website']}  ·  {hq}  ·  "
                  f"relevance {row['relevance']}", highlight=False)
        width = max(len(key) for key in row["scores"])
        for key, score in row["scores"].items():
            out.print(f"   {key:<{width}}  {score['grade']}/5  {score['explanation']}", highlight=False)
