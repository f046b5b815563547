"""ASGI middleware: request ids, one JSON access-log line per request, metrics, and a body-size cap."""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from firmscout.telemetry import HTTP_LATENCY, HTTP_REQUESTS

log = logging.getLogger("firmscout.access")


class _TooLarge(Exception):
    pass


class RequestMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
        request_id = headers.get("x-request-id") or uuid.uuid4().hex
        started = time.perf_counter()
        status = 500
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise _TooLarge
            return message

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            declared = int(headers.get("content-length") or 0)
            if declared > self.max_body_bytes:
                raise _TooLarge
            await self.app(scope, limited_receive, send_with_id)
        except _TooLarge:
            await self._reject(send_with_id, f"Request body over {self.max_body_bytes} bytes.")
        finally:
            elapsed = time.perf_counter() - started
            route = _route(scope)
            HTTP_REQUESTS.labels(scope["method"], route, str(status)).inc()
            HTTP_LATENCY.labels(scope["method"], route).observe(elapsed)
            log.info(json.dumps({"request_id": request_id, "method": scope["method"], "path": scope["path"],
                                 "status": status, "duration_ms": round(elapsed * 1000, 2)}))

    @staticmethod
    async def _reject(send: Any, detail: str) -> None:
        body = json.dumps({"detail": detail}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def _route(scope: Scope) -> str:
    # The matched route's template keeps label cardinality bounded (no task ids in metric labels).
    route = scope.get("route")
    return getattr(route, "path", None) or "unmatched"
