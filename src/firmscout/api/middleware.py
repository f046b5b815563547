"""ASGI middleware: request ids, one JSON access-log line per request, metrics, and a body-size cap.

It reads nothing from a request that can fail to decode, so even a malformed request gets its access-log
line, metrics and request id.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from firmscout.telemetry import HTTP_LATENCY, HTTP_REQUESTS

log = logging.getLogger("firmscout.access")
# A client's X-Request-ID is kept only when it is this tame; otherwise the request gets an id of ours.
_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:\-]{1,128}")


class RequestMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _request_id(scope)
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            body = await self._read_body(scope, receive)
            if body is None:
                await _reject(send_with_id, 413, f"Request body over {self.max_body_bytes} bytes.")
                return
            await self.app(scope, _replay(body, receive), send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _route(scope)
            HTTP_REQUESTS.labels(scope["method"], route, str(status)).inc()
            HTTP_LATENCY.labels(scope["method"], route).observe(elapsed)
            log.info(json.dumps({"request_id": request_id, "method": scope["method"],
                                 "path": scope["path"],
                                 "status": status, "duration_ms": round(elapsed * 1000, 2)}))

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes | None:
        """The whole body, or None past the cap: declared or not (chunked), it never reaches the app."""
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks)  # the client left; the app sees an empty body and its reply goes nowhere
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: the disconnect, when it comes

    return replay


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value)
    return None


def _request_id(scope: Scope) -> str:
    given = _header(scope, b"x-request-id")
    if given is not None and _REQUEST_ID.fullmatch(given):
        return given.decode("ascii")
    return uuid.uuid4().hex


async def _reject(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _route(scope: Scope) -> str:
    # The matched route's template keeps label cardinality bounded (no task ids in metric labels).
    route = scope.get("route")
    return getattr(route, "path", None) or "unmatched"
