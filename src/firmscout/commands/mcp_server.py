"""`mcp`: an MCP server for agents (the [mcp] extra), over stdio or streamable HTTP.

Its tools call the task service and the instant use cases the API calls, as the local user (the identity
`firmscout search` uses), and the in-process worker runs the tasks they create when this process owns the
database. Results are compact JSON text; a `FirmscoutError` becomes a tool error with the API's message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from firmscout import __version__
from firmscout.api.schemas import CreateDiscoveryTask, DiscoveryTaskResult, ResumeDiscoveryTask
from firmscout.config import Settings
from firmscout.entities import CompanyProfile
from firmscout.errors import FirmscoutError, InvalidField
from firmscout.lookalike import Filters, Match
from firmscout.storage.views import ResultView, TaskView
from firmscout.tasks import accounts, instant
from firmscout.tasks.explain import explain
from firmscout.tasks.runtime import Runtime, open_runtime
from firmscout.worker import run_worker

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

INSTALL_HINT = ("`firmscout mcp` needs the [mcp] extra: pip install 'firmscout[mcp]' (in a checkout: "
                ".venv/bin/pip install -c constraints.txt -e '.[mcp]').")
Transport = Literal["stdio", "http"]
POLL_S = 0.2
# One tool call waits at most this long for a task; then it returns the task as it stands (poll get_task).
WAIT_S = 600.0
MAX_LIMIT = 250
T = TypeVar("T")


def available() -> bool:
    return find_spec("mcp") is not None


@dataclass
class _Local:
    runtime: Runtime
    caller: accounts.Caller


def _dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def task_summary(task: TaskView) -> dict[str, Any]:
    summary = {
        "id": task.id, "status": task.status, "query": task.query, "desired_num_results": task.desired_num_results,
        "num_results": task.num_results, "num_results_discovered": task.num_results_discovered,
        "num_results_evaluated": task.num_results_evaluated, "is_exhausted": task.is_exhausted,
        "stop_reason": task.stop_reason, "error": task.error,
        "criteria": {c["key"]: c["criterion"] for c in task.criteria},
    }
    if task.warnings:
        summary["warnings"] = list(task.warnings)
    return summary


def result_summary(row: ResultView) -> dict[str, Any]:
    result = DiscoveryTaskResult.from_row(row)
    return {
        "name": result.company_name, "website": result.company_website, "relevance": result.relevance,
        "country": result.hq_country, "city": result.hq_city,
        "grades": {key: {"grade": s.grade, "explanation": _first_line(s.explanation)}
                   for key, s in result.scores.items()},
    }


def _company(company_id: int, profile: CompanyProfile, score: float | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": company_id, "name": profile.name, "website": profile.website or profile.domain,
                           "country": profile.country, "city": profile.city,
                           "description": profile.description}
    if score is not None:
        out["score"] = round(score, 4)
    return out


def _matches(matches: list[Match]) -> list[dict[str, Any]]:
    return [_company(m.company_id, m.profile, m.score) for m in matches]


def _validated(model: type[T], **fields: Any) -> T:
    """`model` (one of the API's request models) built from tool arguments, so the tools refuse what the API
    refuses, with its messages."""
    from pydantic import ValidationError

    try:
        return model(**fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidField(tuple(first["loc"]), first["msg"]) from None


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidField(("limit",), f"limit must be between 1 and {MAX_LIMIT}")
    return limit


class Tools:
    """The tools' logic, without the SDK: each method returns a JSON-ready value or raises FirmscoutError."""

    def __init__(self, local: _Local) -> None:
        self.local = local

    async def deep_search(self, query: str, desired_num_results: int, criteria: list[dict[str, Any]] | None,
                          data_sources: list[str] | None, wait: bool) -> dict[str, Any]:
        body = _validated(CreateDiscoveryTask, query=query, desired_num_results=desired_num_results,
                          criteria=criteria, data_sources=data_sources or [], auto_data_sources=not data_sources)
        runtime, caller = self.local.runtime, self.local.caller
        task = await runtime.service.create(caller, body.new_task())
        if not wait:
            return {"task_id": task.id, "status": task.status}
        await self._wait(task.id)
        return await self.get_results(task.id, 0, desired_num_results)

    async def _wait(self, task_id: str) -> TaskView:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_S
        while True:
            task = await self.local.runtime.service.get(self.local.caller, task_id)
            if task.status in ("done", "failed") or loop.time() > deadline:
                return task
            await asyncio.sleep(POLL_S)

    async def get_task(self, task_id: str) -> dict[str, Any]:
        return task_summary(await self.local.runtime.service.get(self.local.caller, task_id))

    async def get_results(self, task_id: str, offset: int, limit: int) -> dict[str, Any]:
        if offset < 0:
            raise InvalidField(("offset",), "offset must be 0 or more")
        page = await self.local.runtime.service.results(self.local.caller, task_id, offset=offset,
                                                        limit=_limit(limit))
        return {"task": task_summary(page.task), "offset": offset, "results": [result_summary(r) for r in page.results]}

    async def resume_task(self, task_id: str, desired_new_results: int) -> dict[str, Any]:
        body = _validated(ResumeDiscoveryTask, desired_new_results=desired_new_results)
        task = await self.local.runtime.service.resume(self.local.caller, task_id, body.desired_new_results)
        return task_summary(task)

    async def explain_query(self, query: str) -> dict[str, Any]:
        if not query.strip():
            raise InvalidField(("query",), "query must not be empty")
        return await explain(query, self.local.runtime.settings)

    async def search_companies(self, q: str, limit: int) -> dict[str, Any]:
        if not q.strip():
            raise InvalidField(("q",), "q must not be empty")
        matches = await instant.search(self.local.runtime.sessions, q, Filters(), offset=0, limit=_limit(limit))
        return {"query": q, "companies": _matches(matches)}

    async def find_similar(self, company: str, limit: int) -> dict[str, Any]:
        found = await instant.similar(self.local.runtime.sessions, company, Filters(), offset=0, limit=_limit(limit))
        return {"reference": _company(found.reference.id, found.reference.profile),
                "companies": _matches(found.matches)}


def build_server(tools: Tools) -> MCPServer:
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError

    server: MCPServer = MCPServer(
        "firmscout", version=__version__,
        instructions="Company discovery: deep_search finds and grades companies for a query (explain_query "
                     "shows how a query is understood first); search_companies and find_similar answer at once "
                     "from the company database.",
    )

    async def call(work: Callable[[], Awaitable[Any]]) -> str:
        try:
            return _dump(await work())
        except InvalidField as exc:
            where = ".".join(str(p) for p in exc.loc if p != "body")
            raise ToolError(f"{where}: {exc.message}" if where else exc.message) from None
        except FirmscoutError as exc:
            raise ToolError(exc.message) from None

    @server.tool(structured_output=False)
    async def deep_search(query: str, desired_num_results: int = 25, criteria: list[dict[str, Any]] | None = None,
                          data_sources: list[str] | None = None, wait: bool = True) -> str:
        """Find companies matching `query` (e.g. "banks in Spain") and grade each against criteria (inferred
        from the query unless given as [{"key", "name", "criterion"}]). With wait (the default) returns the
        task and its results, best first; without, the task id at once (then get_task, get_results).
        data_sources: extruct_db, web_search, linkedin, maps (default: chosen automatically)."""
        return await call(lambda: tools.deep_search(query, desired_num_results, criteria, data_sources, wait))

    @server.tool(structured_output=False)
    async def get_task(task_id: str) -> str:
        """A task's status, counters, criteria and why it stopped."""
        return await call(lambda: tools.get_task(task_id))

    @server.tool(structured_output=False)
    async def get_results(task_id: str, offset: int = 0, limit: int = 25) -> str:
        """One page of a task's results, best first: name, website, relevance, one grade (1-5) with a one-line
        explanation per criterion."""
        return await call(lambda: tools.get_results(task_id, offset, limit))

    @server.tool(structured_output=False)
    async def resume_task(task_id: str, desired_new_results: int = 25) -> str:
        """Ask a finished task for more results; it runs again in the background (poll get_task)."""
        return await call(lambda: tools.resume_task(task_id, desired_new_results))

    @server.tool(structured_output=False)
    async def explain_query(query: str) -> str:
        """How a query is understood, without running it: criteria, constraints, search terms, web searches."""
        return await call(lambda: tools.explain_query(query))

    @server.tool(structured_output=False)
    async def search_companies(q: str, limit: int = 10) -> str:
        """Instant full-text search of the company database (no grading)."""
        return await call(lambda: tools.search_companies(q, limit))

    @server.tool(structured_output=False)
    async def find_similar(company: str, limit: int = 10) -> str:
        """Companies like one in the company database, named by its domain (acme.com) or id."""
        return await call(lambda: tools.find_similar(company, limit))

    return server


@contextlib.asynccontextmanager
async def _local(settings: Settings) -> AsyncIterator[_Local]:
    """The runtime, the local user and, when this process owns the database, the in-process worker."""
    async with open_runtime(settings, seed=True) as runtime, contextlib.AsyncExitStack() as stack:
        try:
            stack.enter_context(runtime.own())
        except FirmscoutError:
            # A running `serve` owns this database: its worker runs the tasks we create.
            print("A Firmscout server works this database; its worker runs the tasks.", file=sys.stderr)
        else:
            stop = asyncio.Event()
            worker = asyncio.create_task(run_worker(runtime, stop))
            stack.push_async_callback(_stop, stop, worker)
        yield _Local(runtime, await accounts.local_caller(runtime.sessions))


async def _stop(stop: asyncio.Event, worker: asyncio.Task[None]) -> None:
    stop.set()
    await worker


async def run(settings: Settings, transport: Transport = "stdio", host: str = "127.0.0.1", port: int = 8765) -> None:
    async with _local(settings) as local:
        server = build_server(Tools(local))
        if transport == "stdio":
            await server.run_stdio_async()
        else:
            await server.run_streamable_http_async(host=host, port=port)
