"""`serve` (API + in-process worker) and `worker` (worker alone)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
from collections.abc import Iterator
from datetime import UTC, datetime

import uvicorn
from rich.console import Console

from firmscout.api.app import create_app
from firmscout.catalog.service import seed_builtin
from firmscout.config import Settings
from firmscout.tasks import accounts
from firmscout.tasks.runtime import Runtime, open_runtime
from firmscout.worker import run_worker, warm_up

console = Console(stderr=True, soft_wrap=True)


class _Server(uvicorn.Server):
    """uvicorn re-raises SIGINT/SIGTERM once its own shutdown is done, which would end the process before
    the in-process worker checkpoints and the database is closed. Here a signal only asks to stop (a second
    one forces it), and `serve` then stops the worker and exits 0."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._ask_to_exit)
        try:
            yield
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    def _ask_to_exit(self) -> None:
        self.force_exit = self.should_exit
        self.should_exit = True


class _JsonFormatter(logging.Formatter):
    """One JSON object per line, so log shippers need no parsing rules; messages that are JSON objects
    already (the access log) are merged in rather than quoted."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        message = record.getMessage()
        parsed = None
        if message.startswith("{"):
            with contextlib.suppress(ValueError):
                parsed = json.loads(message)
        if isinstance(parsed, dict):
            entry.update(parsed)
        else:
            entry["message"] = message
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def _configure_logging() -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(_JsonFormatter())
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # one line per start, not per migration step


async def prepare(settings: Settings) -> Runtime:
    runtime = await open_runtime(settings)
    if settings.seed_builtin_companies:
        added = await seed_builtin(runtime.sessions)
        if added:
            console.print(f"Loaded {added} companies into the built-in company database.")
    return runtime


async def serve(settings: Settings, *, host: str, port: int, with_worker: bool) -> None:
    _configure_logging()
    runtime = await prepare(settings)
    try:
        if settings.bootstrap_token:
            token = await accounts.bootstrap_local_token(runtime.sessions)
            if token:
                console.print(
                    f"Created user {accounts.LOCAL_EMAIL} (organization '{accounts.LOCAL_ORG}'). "
                    "Its API token, shown once:"
                )
                console.print(f"  {token}", highlight=False)
        console.print(
            f"Firmscout {'API + worker' if with_worker else 'API'} on http://{host}:{port} "
            f"— docs at http://{host}:{port}/docs, database {settings.resolved_database_url()}",
            highlight=False,
        )
        # log_config=None: uvicorn logs through our JSON handler; its access log is replaced by ours,
        # which carries the request id. lifespan="off": the runtime is built and closed here, not by the app.
        server = _Server(uvicorn.Config(create_app(runtime), host=host, port=port, log_level="info",
                                        log_config=None, access_log=False, lifespan="off"))
        stop = asyncio.Event()
        worker = asyncio.create_task(run_worker(runtime, stop)) if with_worker else None
        try:
            await server.serve()
        finally:
            stop.set()
            if worker is not None:
                await worker
    finally:
        await runtime.close()


async def work(settings: Settings) -> None:
    _configure_logging()
    runtime = await prepare(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    warm_up()
    console.print(f"Worker {runtime.queue.worker_id} waiting for tasks in {settings.resolved_database_url()}",
                  highlight=False)
    try:
        await run_worker(runtime, stop)
    finally:
        await runtime.close()
