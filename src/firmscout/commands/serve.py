"""`serve` (API + in-process worker) and `worker` (worker alone)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from rich.console import Console

from firmscout.catalog.service import seed_builtin
from firmscout.commands.api_server import ApiProcesses, Server, freeze_heap, uvicorn_config
from firmscout.commands.logs import configure_logging
from firmscout.config import Settings
from firmscout.tasks import accounts
from firmscout.tasks.runtime import Runtime, open_runtime
from firmscout.worker import run_worker, warm_up

console = Console(stderr=True, soft_wrap=True)
log = logging.getLogger("firmscout.serve")


async def prepare(settings: Settings) -> Runtime:
    runtime = await open_runtime(settings)
    if settings.seed_builtin_companies:
        added = await seed_builtin(runtime.sessions)
        if added:
            console.print(f"Loaded {added} companies into the built-in company database.")
    return runtime


async def serve(settings: Settings, *, host: str, port: int, with_worker: bool, workers: int = 1) -> None:
    """The API in `workers` processes on one socket (this one and workers - 1 spawned children), and, with
    `with_worker`, the pipeline worker in this process only."""
    configure_logging()
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
        processes = f"{workers} API processes" if workers > 1 else "API"
        console.print(
            f"Firmscout {processes}{' + worker' if with_worker else ''} on http://{host}:{port} "
            f"— docs at http://{host}:{port}/docs, database {settings.resolved_database_url()}",
            highlight=False,
        )
        config = uvicorn_config(runtime, host, port)
        sock = config.bind_socket()
        children = ApiProcesses(settings, sock, workers - 1) if workers > 1 else None
        server = Server(config, (signal.SIGINT, signal.SIGTERM))
        stop = asyncio.Event()
        worker = asyncio.create_task(run_worker(runtime, stop)) if with_worker else None
        if with_worker:
            log.info("pipeline worker %s runs in this process only", runtime.queue.worker_id)
        supervisor = asyncio.create_task(children.supervise()) if children else None
        freeze_heap()
        try:
            await server.serve(sockets=[sock])
        finally:
            if children is not None:
                children.signal_stop()
            stop.set()
            if worker is not None:
                await worker
            if supervisor is not None:
                supervisor.cancel()
            if children is not None:
                await asyncio.to_thread(children.join)
            sock.close()
    finally:
        await runtime.close()


async def work(settings: Settings) -> None:
    configure_logging()
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
