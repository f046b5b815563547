"""The HTTP server of `serve`: uvicorn in this process, or uvicorn's own worker processes (PostgreSQL)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any, TypeVar

import uvicorn
from fastapi import FastAPI

from firmscout.api.app import create_app, create_app_opening
from firmscout.commands.logs import configure_logging
from firmscout.config import Settings
from firmscout.tasks.runtime import Runtime, open_runtime

T = TypeVar("T")
# The app factory each of uvicorn's worker processes imports.
WORKER_APP = "firmscout.commands.api_server:worker_app"


class Server(uvicorn.Server):
    """uvicorn re-raises SIGINT/SIGTERM once its own shutdown is done, which would end the process before
    the in-process worker checkpoints and the database is closed. Here a signal only asks to stop (a second
    one forces it), and `serve` then stops the worker and exits 0."""

    def __init__(self, config: uvicorn.Config, signals: tuple[signal.Signals, ...]) -> None:
        super().__init__(config)
        self._signals = signals

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        for sig in self._signals:
            loop.add_signal_handler(sig, self._ask_to_exit)
        try:
            yield
        finally:
            for sig in self._signals:
                loop.remove_signal_handler(sig)

    def _ask_to_exit(self) -> None:
        self.force_exit = self.should_exit
        self.should_exit = True


# log_config=None: uvicorn logs through our JSON handler, and our access log (with the request id) replaces its
# own. http="auto" picks httptools when installed.
_UVICORN_OPTIONS: dict[str, Any] = {"log_level": "info", "log_config": None, "access_log": False, "http": "auto",
                                    "backlog": 2048}


def uvicorn_config(runtime: Runtime, host: str, port: int) -> uvicorn.Config:
    # lifespan="off": the caller opens and closes the runtime around the server.
    return uvicorn.Config(create_app(runtime), host=host, port=port, lifespan="off", **_UVICORN_OPTIONS)


def serve_in_processes(host: str, port: int, workers: int) -> None:
    """`workers` API processes on one port under uvicorn's supervisor, each configured from the environment."""
    uvicorn.run(WORKER_APP, factory=True, host=host, port=port, workers=workers, lifespan="on",
                loop="uvloop" if _has_uvloop() else "asyncio", **_UVICORN_OPTIONS)


def worker_app() -> FastAPI:
    """One of uvicorn's API processes: configured from the environment, its runtime opened in the app's
    lifespan (the parent migrated and seeded the database before starting it)."""
    configure_logging()
    settings = Settings()

    @contextlib.asynccontextmanager
    async def opened() -> AsyncIterator[Runtime]:
        async with open_runtime(settings, migrate_first=False) as runtime:
            freeze_heap()
            yield runtime

    return create_app_opening(settings, opened)


def freeze_heap() -> None:
    """Move what start-up built (app, routes, models, metadata, modules) out of the garbage collector's reach.

    Those objects live as long as the process; left in, every full collection walks them all and stalls the
    event loop. Collected first, so no garbage is frozen.
    """
    gc.collect()
    gc.freeze()


def _has_uvloop() -> bool:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return False
    return True


def run(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine on uvloop when it is installed (a faster event loop for the API), else asyncio's."""
    if not _has_uvloop():  # optional: asyncio's own loop works, only slower
        return asyncio.run(main())
    import uvloop

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main())
