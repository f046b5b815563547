"""A loopback server that speaks the OpenAI Chat Completions protocol, with scripted replies.

The real `openai` SDK talks to it over real HTTP, so tests exercise the wire format, status codes,
headers (Retry-After) and timeouts exactly as a provider would present them.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


@dataclass
class Reply:
    status: int = 200
    content: str | None = None  # None: answer with `default_content(request)`
    refusal: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


def grade_everything(request: dict[str, Any], grade: int = 5) -> str:
    """A valid grading reply for whatever companies and criteria the request carries (in its first user turn;
    later turns are repair or follow-up requests)."""
    payload = json.loads(next(m["content"] for m in request["messages"] if m["role"] == "user"))
    return json.dumps({"companies": [
        {"domain": c["domain"], "scores": {
            k["key"]: {"grade": grade, "explanation": f"LLM: {c['name']} meets '{k['name']}'.",
                       "sources": c.get("sources", [])[:1]}
            for k in payload["criteria"]}}
        for c in payload["companies"]]})


def schema_name(request: dict[str, Any]) -> str:
    return str(request.get("response_format", {}).get("json_schema", {}).get("name", ""))


def plan_from_query(request: dict[str, Any], terms: tuple[str, ...] = ()) -> str:
    """A valid planning reply: one criterion quoting the query (when criteria are asked for), no
    constraints, and `terms` as search terms."""
    payload = json.loads(next(m["content"] for m in request["messages"] if m["role"] == "user"))
    reply: dict[str, Any] = {
        "constraints": {"countries": [], "min_employees": None, "max_employees": None, "founded_after": None,
                        "founded_before": None},
        "search_terms": list(terms),
    }
    if "criteria" in request["response_format"]["json_schema"]["schema"]["properties"]:
        reply["criteria"] = [{"key": "matches_query", "name": "Matches query",
                              "criterion": f"The company matches the query: {payload['query']}"}]
    return json.dumps(reply)


class ChatCompletionsServer:
    def __init__(
        self,
        default_content: Callable[[dict[str, Any]], str] = grade_everything,
        plan_content: Callable[[dict[str, Any]], str] = plan_from_query,
    ) -> None:
        self.script: list[Reply] = []
        self.requests: list[tuple[float, dict[str, Any]]] = []
        # Unscripted requests are answered by schema: planning ("query_plan") or grading (anything else).
        self.default_content = default_content
        self.plan_content = plan_content
        self.in_flight = 0
        self.max_in_flight = 0  # the most requests it was answering at once
        app = Starlette(routes=[Route("/v1/chat/completions", self._complete, methods=["POST"])])
        self._server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                                     lifespan="off"))
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    async def _complete(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.requests.append((time.monotonic(), body))
        reply = self.script.pop(0) if self.script else Reply()
        self.in_flight += 1  # handlers run on the server's one event loop: no lock needed
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if reply.delay_s:
                await asyncio.sleep(reply.delay_s)
        finally:
            self.in_flight -= 1
        if reply.status != 200:
            return JSONResponse({"error": {"message": f"scripted {reply.status}", "type": "scripted"}},
                                status_code=reply.status, headers=reply.headers)
        default = self.plan_content if schema_name(body) == "query_plan" else self.default_content
        content = reply.content if reply.content is not None or reply.refusal else default(body)
        return JSONResponse({
            "id": f"chatcmpl-{len(self.requests)}", "object": "chat.completion", "created": int(time.time()),
            "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content,
                                     "refusal": reply.refusal}}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
        })

    @property
    def base_url(self) -> str:
        port = self._server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/v1"

    def start(self) -> ChatCompletionsServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("scripted chat server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)
