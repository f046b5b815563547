"""`serve` (the API, with the worker in the same process on SQLite) and `worker` (a worker alone, PostgreSQL)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from rich.console import Console

from firmscout.api.schemas import task_render
from firmscout.commands.api_server import Server, freeze_heap, uvicorn_config
from firmscout.commands.logs import configure_logging
from firmscout.config import Settings
from firmscout.errors import FirmscoutError
from firmscout.tasks import accounts
from firmscout.tasks.runtime import Runtime, embedded, open_runtime
from firmscout.worker import run_worker, warm_up

console = Console(stderr=True, soft_wrap=True)
log = logging.getLogger("firmscout.serve")


async def _greet(runtime: Runtime) -> None:
    if runtime.seeded:
        console.print(f"Loaded {runtime.seeded} companies into the built-in company database.")
    if not runtime.settings.bootstrap_token:
        return
    token = await accounts.bootstrap_local_token(runtime.sessions)
    if token:
        console.print(f"Created user {accounts.LOCAL_EMAIL} (organization '{accounts.LOCAL_ORG}'). Its API token, "
                      "shown once:")
        console.print(f"  {token}", highlight=False)
    else:
        console.print("API tokens are shown only when created; make another with "
                      "`firmscout token create --email you@example.com`.", highlight=False)


def check_processes(settings: Settings, *, workers: int, with_worker: bool) -> None:
    if workers > 1 and (with_worker or embedded(settings)):
        raise FirmscoutError(
            "--workers runs several API processes, which needs PostgreSQL and separate `firmscout worker` "
            "processes: set FIRMSCOUT_DATABASE_URL=postgresql://… and leave out --worker."
        )


async def prepare(settings: Settings, *, host: str, port: int, workers: int) -> None:
    """What `serve --workers N` does once, before its API processes start: migrate, seed, first token."""
    configure_logging()
    async with open_runtime(settings, seed=True) as runtime:
        await _greet(runtime)
    _announce(settings, host, port, f"{workers} API processes")


async def serve(settings: Settings, *, host: str, port: int, with_worker: bool) -> None:
    """The API in this process, and with `with_worker` the pipeline worker beside it."""
    configure_logging()
    async with open_runtime(settings, seed=True, own=with_worker) as runtime:
        await _greet(runtime)
        _announce(settings, host, port, "API + worker" if with_worker else "API")
        server = Server(uvicorn_config(runtime, host, port), (signal.SIGINT, signal.SIGTERM))
        stop = asyncio.Event()
        worker = asyncio.create_task(run_worker(runtime, stop, render=task_render(settings))) if with_worker else None
        freeze_heap()
        try:
            await server.serve()
        finally:
            stop.set()
            if worker is not None:
                await worker


def _announce(settings: Settings, host: str, port: int, what: str) -> None:
    console.print(f"Firmscout {what} on http://{host}:{port} — web app at http://{host}:{port}/ (sign in with a "
                  f"token), API docs at http://{host}:{port}/docs, database {settings.resolved_database_url()}",
                  highlight=False)


async def work(settings: Settings) -> None:
    configure_logging()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    async with open_runtime(settings, seed=True, own=True) as runtime:
        warm_up()
        console.print(f"Worker {runtime.queue.worker_id} waiting for tasks in {settings.resolved_database_url()}",
                      highlight=False)
        await run_worker(runtime, stop, render=task_render(settings))
