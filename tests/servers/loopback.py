"""One ASGI app served by uvicorn on 127.0.0.1 (a free port) in a daemon thread: the test servers' shared plumbing."""

from __future__ import annotations

import threading
import time
from typing import ClassVar, Self

import uvicorn
from starlette.types import ASGIApp


class LoopbackServer:
    def __init__(self, app: ASGIApp, name: str) -> None:
        self.name = name
        self._server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                                     lifespan="off"))
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    @property
    def base_url(self) -> str:
        port = self._server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def start(self) -> None:
        """Serve, and wait (at most 10 s) until the socket listens."""
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)


class OnLoopback:
    """A test server's `start()`/`stop()`/`base_url`, for a class that sets `self._http` when built."""

    _http: LoopbackServer
    _base_path: ClassVar[str] = ""  # appended to the base URL, e.g. "/v1"

    @property
    def base_url(self) -> str:
        return self._http.base_url + self._base_path

    def start(self) -> Self:
        self._http.start()
        return self

    def stop(self) -> None:
        self._http.stop()
