"""A loopback webhook receiver: keeps every request it gets, and answers from a script (`answers`, then 200)."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.servers.loopback import LoopbackServer, OnLoopback


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class WebhookReceiver(OnLoopback):
    # Status codes of the next answers, in order; a 3xx carries `Location: /inside`. Then 200.
    answers: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        app = Starlette(routes=[Route("/{path:path}", self._handle, methods=["POST", "GET"])])
        self._http = LoopbackServer(app, "webhook receiver")

    async def _handle(self, request: Request) -> Response:
        body = await request.body()
        self.received.append(Received(request.url.path, {k.lower(): v for k, v in request.headers.items()}, body))
        status = self.answers.pop(0) if self.answers else 200
        headers = {"Location": "/inside"} if 300 <= status < 400 else {}
        return Response(status_code=status, headers=headers)
