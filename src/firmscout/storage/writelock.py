"""Writers of one SQLite database take turns through an OS file lock, across processes.

SQLite has one write lock per database. A writer that finds it taken waits in SQLite's busy handler, which
sleeps and polls (1, 2, 5, 10 … 100 ms): with two `firmscout worker` processes writing short transactions
back to back, each kept missing the other's brief gaps and slept, and two workers were no faster than one
(docs/benchmarks.md, Worker scaling). An exclusive `flock` on a file beside the database wakes the next
writer as soon as the holder lets go. Within one process an asyncio lock orders the writers first
(`storage/db.py`), so at most one thread per process ever blocks on the file.

`flock`, not SQLite's own POSIX byte-range locks: on Linux the two kinds do not interact, and closing a
descriptor of the database file itself would drop every POSIX lock SQLite holds on it in this process.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import threading
from concurrent.futures import Future
from pathlib import Path

log = logging.getLogger(__name__)

SUFFIX = "-firmscout.lock"


class FileWriteLock:
    """An exclusive lock on `<database>-firmscout.lock`, taken without blocking the event loop."""

    def __init__(self, database: Path) -> None:
        self.path = Path(f"{database}{SUFFIX}")
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        self._pid = os.getpid()
        # Guards the hand-over between the waiter thread and the event loop: a grant that lands just as its
        # waiter gives up must be released, never leaked.
        self._state = threading.Lock()
        self._pending: Future[None] | None = None
        self._wanted = False
        self._granted = False
        self._closed = False

    @property
    def owned_by_this_process(self) -> bool:
        # A forked child shares the parent's open file description, and with it the parent's flock.
        return os.getpid() == self._pid

    async def acquire(self, timeout_s: float) -> bool:
        """Take the lock; False if it stayed taken for `timeout_s` (the caller goes on without it)."""
        with self._state:
            # Not while a thread waits on our descriptor: its flock would be granted on top of ours (the lock
            # belongs to the open file), and it would then release the lock under us.
            if self._pending is None:
                try:
                    fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return True
                except BlockingIOError:
                    pass
            self._wanted = True
            if self._pending is None:  # a wait that outlived its waiter (timeout) is reused, not doubled
                self._pending = self._wait_in_thread()
            pending = asyncio.wrap_future(self._pending)
        try:
            await asyncio.wait_for(asyncio.shield(pending), timeout_s)
        except (TimeoutError, asyncio.CancelledError) as exc:
            self._give_up()
            if isinstance(exc, asyncio.CancelledError):
                raise
            return False
        with self._state:
            self._wanted = self._granted = False
        return True

    def _wait_in_thread(self) -> Future[None]:
        # A daemon thread, not an executor: a process must be able to exit while the lock's holder elsewhere
        # hangs, and an executor's threads are joined at exit.
        future: Future[None] = Future()
        future.add_done_callback(self._on_granted)

        def wait() -> None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            except OSError as exc:
                future.set_exception(exc)
            else:
                future.set_result(None)

        threading.Thread(target=wait, name="firmscout-writelock", daemon=True).start()
        return future

    def _on_granted(self, future: Future[None]) -> None:
        # Runs on the waiter thread once flock returns.
        with self._state:
            self._pending = None
            if future.exception() is not None or self._closed:
                return
            if self._wanted:
                self._granted = True  # the waiting coroutine takes it over when it wakes
            else:
                fcntl.flock(self._fd, fcntl.LOCK_UN)  # its waiter gave up meanwhile

    def _give_up(self) -> None:
        with self._state:
            self._wanted = False
            if self._granted:  # granted in the same instant the wait ended
                self._granted = False
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    def release(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        with self._state:
            self._closed = True
            if self._pending is None:
                os.close(self._fd)
            # else: a thread still waits on the descriptor; it stays open until the process exits


def open_for(database: str | None) -> FileWriteLock | None:
    """The lock for a file database, or None (in-memory database, or a directory we cannot write to)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    try:
        return FileWriteLock(Path(database))
    except OSError as exc:  # a read-only directory: SQLite's busy handler still keeps writers apart
        log.warning("no cross-process write lock for %s: %s", database, exc)
        return None
