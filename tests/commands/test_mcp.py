"""`firmscout mcp` over stdio, driven by the official SDK's own client against a fresh data directory."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mcp")

from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult, TextContent
from typer.testing import CliRunner

from firmscout.cli import app
from firmscout.commands import mcp_server

pytestmark = pytest.mark.slow

TOOLS = {"deep_search", "get_task", "get_results", "resume_task", "explain_query", "search_companies",
         "find_similar"}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One embedded database for the module; the first server seeds the built-in companies."""
    return tmp_path_factory.mktemp("mcp")


def server_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIRMSCOUT_")}
    return {**env, "FIRMSCOUT_DATA_DIR": str(data_dir)}


@asynccontextmanager
async def connected(data_dir: Path) -> AsyncIterator[ClientSession]:
    params = StdioServerParameters(command=sys.executable, args=["-m", "firmscout", "mcp"], env=server_env(data_dir))
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


async def call(session: ClientSession, tool: str, **arguments: Any) -> CallToolResult:
    result = await session.call_tool(tool, arguments, read_timeout_seconds=120)
    assert isinstance(result, CallToolResult)
    return result


def text(result: CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


def error(result: CallToolResult, tool: str) -> str:
    """The message of a tool error, after the prefix the SDK puts on every one."""
    assert result.is_error
    prefix = f"Error executing tool {tool}: "
    assert text(result).startswith(prefix), text(result)
    return text(result).removeprefix(prefix)


def payload(result: CallToolResult) -> Any:
    assert not result.is_error, text(result)
    return json.loads(text(result))


class TestTools:
    async def test_lists_every_tool_with_a_description(self, data_dir: Path) -> None:
        async with connected(data_dir) as session:
            listed = await session.list_tools()
        assert {t.name for t in listed.tools} == TOOLS
        assert all(t.description for t in listed.tools)


class TestDeepSearch:
    async def test_waits_for_graded_results_then_the_task_reads_back(self, data_dir: Path) -> None:
        async with connected(data_dir) as session:
            found = payload(await call(session, "deep_search", query="banks in Spain", desired_num_results=5))
            task_id = found["task"]["id"]
            task = payload(await call(session, "get_task", task_id=task_id))
            page = payload(await call(session, "get_results", task_id=task_id, offset=1, limit=2))
        assert found["task"]["status"] == "done"
        assert {"bbva.com", "caixabank.com", "bankinter.com"} <= {r["website"] for r in found["results"]}
        for row in found["results"]:
            assert row["country"] == "Spain"
            assert row["grades"] and all(g["grade"] >= 4 and g["explanation"] for g in row["grades"].values())
            assert all("\n" not in g["explanation"] for g in row["grades"].values())
        assert task["id"] == task_id and task["num_results"] == len(found["results"])
        assert [r["website"] for r in page["results"]] == [r["website"] for r in found["results"][1:3]]

    async def test_without_wait_returns_the_task_id_at_once(self, data_dir: Path) -> None:
        async with connected(data_dir) as session:
            created = payload(await call(session, "deep_search", query="banks in Spain", desired_num_results=3,
                                         wait=False))
            task = payload(await call(session, "get_task", task_id=created["task_id"]))
        assert uuid.UUID(created["task_id"])
        assert task["query"] == "banks in Spain"

    async def test_bad_input_is_a_tool_error_naming_the_field(self, data_dir: Path) -> None:
        async with connected(data_dir) as session:
            result = await call(session, "deep_search", query="banks in Spain", desired_num_results=1000)
        assert error(result, "deep_search") == "desired_num_results: Input should be less than or equal to 250"


class TestTaskErrors:
    async def test_unknown_task_is_a_tool_error_with_the_api_message(self, data_dir: Path) -> None:
        async with connected(data_dir) as session:
            for tool in ("get_task", "get_results", "resume_task"):
                result = await call(session, tool, task_id=str(uuid.uuid4()))
                assert error(result, tool) == "The task ID is invalid or unavailable in your workspace."


class TestInstantTools:
    async def test_explain_query_shows_the_plan(self, data_dir: Path) -> None:
        async with connected(data_dir) as session:
            plan = payload(await call(session, "explain_query", query="banks in Spain"))
        assert plan["criteria"] and plan["constraints"]
        assert "Spain" in plan["places"]

    async def test_search_companies_and_find_similar(self, data_dir: Path) -> None:
        async with connected(data_dir) as session:
            found = payload(await call(session, "search_companies", q="bank", limit=5))
            similar = payload(await call(session, "find_similar", company="bbva.com", limit=5))
            unknown = await call(session, "find_similar", company="no-such-company.com")
        assert 0 < len(found["companies"]) <= 5
        assert similar["reference"]["name"] and similar["companies"]
        assert "bbva.com" not in {c["website"] for c in similar["companies"]}
        assert error(unknown, "find_similar").startswith("Reference company not found: no-such-company.com")


class TestHttp:
    async def test_streamable_http_serves_the_same_tools(self, tmp_path: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        proc = subprocess.Popen([sys.executable, "-m", "firmscout", "mcp", "--transport", "http", "--port", str(port)],
                                env=server_env(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(300):
                with socket.socket() as sock:
                    if sock.connect_ex(("127.0.0.1", port)) == 0:
                        break
                await asyncio.sleep(0.1)
            async with streamable_http_client(f"http://127.0.0.1:{port}/mcp") as (read, write, *_), \
                    ClientSession(read, write) as session:
                await session.initialize()
                listed = await session.list_tools()
                found = payload(await call(session, "search_companies", q="bank", limit=3))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        assert {t.name for t in listed.tools} == TOOLS
        assert found["companies"]


class TestWithoutTheExtra:
    def test_prints_how_to_install_it(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(mcp_server, "available", lambda: False)
        run = CliRunner().invoke(app, ["mcp"])
        assert run.exit_code == 1
        assert "pip install" in run.output and "[mcp]" in run.output
