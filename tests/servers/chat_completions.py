"""A loopback server that speaks the OpenAI Chat Completions protocol, with scripted replies.

The real `openai` SDK talks to it over real HTTP, so tests exercise the wire format, status codes,
headers (Retry-After) and timeouts exactly as a provider would present them. It also plays the ways the
servers behind `FIRMSCOUT_LLM__BASE_URL` differ: the error body each one sends (`flavor`), a
`response_format` type it refuses (`refuses`) or ignores (`ignores_format`), and how a model without
constrained decoding wraps its JSON (`plain`).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.servers.loopback import LoopbackServer, OnLoopback


@dataclass
class Reply:
    status: int = 200
    content: str | None = None  # None: answer with `default_content(request)`
    refusal: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


# Error bodies as each server sends them, for (status, message, the parameter at fault).
ERROR_BODIES: dict[str, Callable[[int, str, str | None], dict[str, Any]]] = {
    # OpenAI: {"error": {message, type, param, code}}.
    "openai": lambda status, message, param: {"error": {
        "message": message, "type": "invalid_request_error" if status < 500 else "server_error", "param": param,
        "code": None}},
    # vLLM's ErrorResponse (vllm/entrypoints/openai/protocol.py): flat, the status as `code`.
    "vllm": lambda status, message, param: {"object": "error", "message": message, "type": "BadRequestError",
                                            "param": param, "code": status},
    # llama.cpp server: format_error_response(message, ERROR_TYPE_INVALID_REQUEST or ERROR_TYPE_SERVER).
    "llamacpp": lambda status, message, param: {"error": {
        "code": status, "message": message, "type": "invalid_request_error" if status < 500 else "server_error"}},
    # Ollama's /v1 layer (openai.NewError): the type by status, code and param null.
    "ollama": lambda status, message, param: {"error": {
        "message": message, "type": "invalid_request_error" if status == 400 else "api_error", "param": None,
        "code": None}},
    # Ollama's native API (and proxies passing it through): a bare string.
    "ollama_native": lambda status, message, param: {"error": message},
}

# What each server answers a response_format type it cannot do: (status, message).
REFUSALS: dict[tuple[str, str], tuple[int, str]] = {
    ("openai", "json_schema"): (400, "Invalid parameter: 'response_format' of type 'json_schema' is not supported "
                                     "with this model. Learn more about supported models at the Structured "
                                     "Outputs guide: https://platform.openai.com/docs/guides/structured-outputs"),
    ("openai", "json_object"): (400, "Invalid parameter: 'response_format' of type 'json_object' is not supported "
                                     "with this model."),
    # vLLM before json_schema support: FastAPI's validation error as vLLM's handler renders it.
    ("vllm", "json_schema"): (400, "[{'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), "
                                   "'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema', "
                                   "'ctx': {'expected': \"'text' or 'json_object'\"}}]"),
    ("vllm", "json_object"): (400, "[{'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), "
                                   "'msg': \"Input should be 'text'\", 'input': 'json_object', "
                                   "'ctx': {'expected': \"'text'\"}}]"),
    # llama.cpp server: oaicompat_chat_params_parse throws std::invalid_argument, answered 400.
    ("llamacpp", "json_schema"): (400, 'response_format type must be one of "text" or "json_object", '
                                       "but got: json_schema"),
    ("llamacpp", "json_object"): (400, 'response_format type must be one of "text", but got: json_object'),
    # Ollama: a schema its grammar converter cannot take fails the completion (500 through /v1).
    ("ollama", "json_schema"): (500, "invalid JSON schema in format"),
    ("ollama_native", "json_schema"): (400, "invalid JSON schema in format"),
}

# How models without constrained decoding (llama.cpp, Ollama in plain mode) tend to wrap their JSON.
PLAIN_WRAPS: dict[str, Callable[[str], str]] = {
    "fenced": lambda content: f"```json\n{content}\n```",
    "leading_text": lambda content: f"Here is the JSON you asked for:\n\n{content}\n\nLet me know if you need more.",
    "think": lambda content: f"<think>They want {{grades}} as JSON.</think>\n{content}",
}

# Where `llm.structured.request_messages` puts the schema when response_format does not carry it.
_SCHEMA_IN_PROMPT = re.compile(r"JSON schema named `([^`]+)`:\n")


def request_schema(request: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The schema a request asks for, and its name: from response_format, or read in the prompt as a model
    would."""
    fmt = request.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        return str(fmt["json_schema"]["name"]), dict(fmt["json_schema"]["schema"])
    system = next((m["content"] for m in request["messages"] if m["role"] == "system"), "")
    if found := _SCHEMA_IN_PROMPT.search(system):
        schema, _ = json.JSONDecoder().raw_decode(system, found.end())
        return found.group(1), schema
    return "", {}


def schema_name(request: dict[str, Any]) -> str:
    return request_schema(request)[0]


def grade_everything(request: dict[str, Any], grade: int = 5) -> str:
    """A valid grading reply for whatever companies and criteria the request carries (in its first user turn;
    later turns are repair or follow-up requests): every grade quotes the company's first passage, or its
    name field when it has no passages."""
    payload = json.loads(next(m["content"] for m in request["messages"] if m["role"] == "user"))
    companies = []
    for c in payload["companies"]:
        first = (c.get("passages") or [None])[0]
        cited, quote, fields = (([first["number"]], " ".join(first["text"].split()[:6]), []) if first
                                else ([], c["name"], ["name"]))
        companies.append({"domain": c["domain"], "scores": {
            k["key"]: {"passages": cited, "quote": quote, "sources": fields,
                       "explanation": f"LLM: {c['name']} meets '{k['name']}'.", "grade": grade}
            for k in payload["criteria"]}})
    return json.dumps({"companies": companies})


def plan_from_query(request: dict[str, Any], terms: tuple[str, ...] = ()) -> str:
    """A valid planning reply: one criterion quoting the query (when criteria are asked for), no
    constraints, and `terms` as search terms."""
    payload = json.loads(next(m["content"] for m in request["messages"] if m["role"] == "user"))
    reply: dict[str, Any] = {
        "constraints": {"countries": [], "min_employees": None, "max_employees": None, "founded_after": None,
                        "founded_before": None},
        "search_terms": list(terms),
        "web_searches": [],
    }
    if "criteria" in request_schema(request)[1]["properties"]:
        reply["criteria"] = [{"key": "matches_query", "name": "Matches query",
                              "criterion": f"The company matches the query: {payload['query']}"}]
    return json.dumps(reply)


class ChatCompletionsServer(OnLoopback):
    _base_path = "/v1"

    def __init__(
        self,
        default_content: Callable[[dict[str, Any]], str] = grade_everything,
        plan_content: Callable[[dict[str, Any]], str] = plan_from_query,
        *,
        flavor: str = "openai",
        refuses: tuple[str, ...] = (),
        ignores_format: bool = False,
        plain: str | None = None,
    ) -> None:
        """`flavor`: whose error bodies to send (ERROR_BODIES). `refuses`: response_format types answered
        with that server's refusal (REFUSALS) before any scripted reply is used. `ignores_format`:
        response_format is dropped unread, as Ollama before 0.5 did with json_schema. `plain`: how the reply
        to a request without an honoured response_format is wrapped (PLAIN_WRAPS)."""
        self.flavor = flavor
        self.refuses = refuses
        self.ignores_format = ignores_format
        self.plain = plain
        self.script: list[Reply] = []
        self.requests: list[tuple[float, dict[str, Any]]] = []
        # Unscripted requests are answered by schema: planning ("query_plan") or grading (anything else).
        self.default_content = default_content
        self.plan_content = plan_content
        self.in_flight = 0
        self.max_in_flight = 0  # the most requests it was answering at once
        app = Starlette(routes=[Route("/v1/chat/completions", self._complete, methods=["POST"])])
        self._http = LoopbackServer(app, "scripted chat server")

    async def _complete(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.requests.append((time.monotonic(), body))
        kind = (body.get("response_format") or {}).get("type")
        if kind in self.refuses:
            status, message = REFUSALS[(self.flavor, kind)]
            return JSONResponse(ERROR_BODIES[self.flavor](status, message, "response_format"), status_code=status)
        constrained = kind is not None and not self.ignores_format
        reply = self.script.pop(0) if self.script else Reply()
        self.in_flight += 1  # handlers run on the server's one event loop: no lock needed
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if reply.delay_s:
                await asyncio.sleep(reply.delay_s)
        finally:
            self.in_flight -= 1
        if reply.status != 200:
            return JSONResponse(ERROR_BODIES[self.flavor](reply.status, f"scripted {reply.status}", None),
                                status_code=reply.status, headers=reply.headers)
        default = self.plan_content if schema_name(body) == "query_plan" else self.default_content
        content = reply.content if reply.content is not None or reply.refusal else default(body)
        if content is not None and self.plain and not constrained:
            content = PLAIN_WRAPS[self.plain](content)
        return JSONResponse({
            "id": f"chatcmpl-{len(self.requests)}", "object": "chat.completion", "created": int(time.time()),
            "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content,
                                     "refusal": reply.refusal}}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
        })
