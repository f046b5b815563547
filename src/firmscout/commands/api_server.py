"""The HTTP server of `serve`: one uvicorn server per process, and `--workers N` API processes sharing one
listening socket. Only the parent runs migrations, seeding and the pipeline worker; the children it spawns
serve HTTP and nothing else, so a task is never worked twice because the API was scaled out."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import multiprocessing
import os
import signal
import socket
from collections.abc import Callable, Coroutine, Iterator
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar

import uvicorn

from firmscout.api.app import create_app
from firmscout.commands.logs import configure_logging
from firmscout.config import Settings
from firmscout.tasks.runtime import Runtime, open_runtime

log = logging.getLogger("firmscout.serve")
T = TypeVar("T")
# How long the parent waits for children to finish their requests after SIGTERM before killing them.
CHILD_STOP_TIMEOUT_S = 30.0


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


def uvicorn_config(runtime: Runtime, host: str, port: int) -> uvicorn.Config:
    # log_config=None: uvicorn logs through our JSON handler; its access log is replaced by ours, which
    # carries the request id. lifespan="off": the runtime is built and closed by the caller, not by the app.
    # http="auto" picks httptools and the event loop is uvloop (see `run`) when they are installed: together
    # about 1.3× the requests per CPU-second of h11 on asyncio's loop (docs/benchmarks.md, Load → API).
    return uvicorn.Config(create_app(runtime), host=host, port=port, log_level="info", log_config=None,
                          access_log=False, lifespan="off", http="auto", backlog=2048)


def freeze_heap() -> None:
    """Move everything built at start-up (app, routes, models, SQLAlchemy metadata, imported modules) out of
    the garbage collector's reach, just before serving.

    Those objects live as long as the process, yet every full (generation 2) collection walked all of them:
    under load that happened every few seconds and stopped the event loop for up to 74 ms each time, which
    was the p99 of GET on PostgreSQL (docs/benchmarks.md, Load → API). Collected first, so no garbage is
    frozen; objects made later are collected as before.
    """
    gc.collect()
    gc.freeze()


def run(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine on uvloop when it is installed (a faster event loop for the API), else asyncio's."""
    try:
        import uvloop
    except ImportError:  # optional: asyncio's own loop works, only slower
        return asyncio.run(main())
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main())


class ApiProcesses:
    """The extra API processes of `serve --workers N`: spawned (not forked, so no event loop, database
    connection or thread of the parent leaks into them) with the parent's bound socket; the kernel hands each
    new connection to whichever process accepts first. A child that dies is replaced; `stop` ends them all."""

    def __init__(self, settings: Settings, sock: socket.socket, count: int) -> None:
        self._settings = settings
        self._sock = sock
        self._context = multiprocessing.get_context("spawn")
        self._procs: list[BaseProcess] = [self._spawn() for _ in range(count)]
        self._stopping = False

    def _spawn(self) -> BaseProcess:
        proc = self._context.Process(target=child_main, args=(self._settings, self._sock, os.getpid()),
                                     name="firmscout-api", daemon=False)
        proc.start()
        return proc

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._procs if p.pid is not None]

    async def supervise(self) -> None:
        while not self._stopping:
            await asyncio.sleep(1.0)
            for i, proc in enumerate(self._procs):
                if not self._stopping and not proc.is_alive():
                    log.error("API process %s exited with %s; starting a new one", proc.pid, proc.exitcode)
                    self._procs[i] = self._spawn()

    def signal_stop(self) -> None:
        self._stopping = True
        for proc in self._procs:
            if proc.is_alive() and proc.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGTERM)

    def join(self) -> None:
        for proc in self._procs:
            proc.join(CHILD_STOP_TIMEOUT_S)
            if proc.is_alive():
                log.error("API process %s did not stop in %.0f s; killing it", proc.pid, CHILD_STOP_TIMEOUT_S)
                proc.kill()
                proc.join()


def child_main(settings: Settings, sock: socket.socket, parent_pid: int) -> None:
    """Entry point of a spawned API process."""
    # Ctrl-C reaches the whole process group; the parent turns it into one SIGTERM per child, so a child
    # ignores SIGINT rather than count it as a second, forcing signal.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    configure_logging()
    run(lambda: _serve_child(settings, sock, parent_pid))


async def _serve_child(settings: Settings, sock: socket.socket, parent_pid: int) -> None:
    # The parent migrated the database before it spawned us.
    runtime = await open_runtime(settings, migrate_first=False)
    try:
        config = uvicorn_config(runtime, *sock.getsockname()[:2])
        server = Server(config, (signal.SIGTERM,))
        orphan_watch = asyncio.create_task(_stop_when_orphaned(server, parent_pid))
        freeze_heap()
        try:
            await server.serve(sockets=[sock])
        finally:
            orphan_watch.cancel()
    finally:
        await runtime.close()


async def _stop_when_orphaned(server: Server, parent_pid: int) -> None:
    # A parent killed with SIGKILL cannot stop its children; they notice they were re-parented and stop.
    while os.getppid() == parent_pid:
        await asyncio.sleep(1.0)
    log.error("parent process %s is gone; stopping", parent_pid)
    server.should_exit = True
