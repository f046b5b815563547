"""SQLite writers of different processes take turns through a file lock beside the database."""

from __future__ import annotations

import asyncio
import fcntl
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text

from firmscout.storage import writelock
from firmscout.storage.db import create_engine, session_factory, unit_of_work
from firmscout.storage.writelock import FileWriteLock

# Another process that takes the lock, says so, and lets go when its stdin closes.
HOLDER = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.read()
"""


@contextmanager
def held_elsewhere(lock_path: Path) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(lock_path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        yield proc
    finally:
        if proc.stdin and not proc.stdin.closed:
            proc.stdin.close()
        proc.wait(timeout=10)


def free_for_another_process(lock_path: Path) -> bool:
    fd = os.open(lock_path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


async def soon_free(lock_path: Path) -> bool:
    """Whether another process can take the lock within about two seconds."""
    for _ in range(100):
        if free_for_another_process(lock_path):
            return True
        await asyncio.sleep(0.02)
    return False


def let_go(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.close()


@pytest.fixture
def lock(tmp_path: Path) -> Iterator[FileWriteLock]:
    file_lock = writelock.open_for(str(tmp_path / "x.db"))
    assert file_lock is not None
    yield file_lock
    file_lock.close()


class TestFileWriteLock:
    async def test_a_writer_waits_for_another_process_and_gets_the_lock_once_freed(self, lock: FileWriteLock) -> None:
        with held_elsewhere(lock.path) as holder:
            waiting = asyncio.ensure_future(lock.acquire(30))
            await asyncio.sleep(0.2)
            assert not waiting.done()
            let_go(holder)
            assert await waiting is True
        assert not free_for_another_process(lock.path)
        lock.release()
        assert free_for_another_process(lock.path)

    async def test_a_writer_that_gives_up_does_not_keep_the_lock_once_it_comes(self, lock: FileWriteLock) -> None:
        with held_elsewhere(lock.path) as holder:
            assert await lock.acquire(0.05) is False
            let_go(holder)
        # The abandoned wait is granted on its thread, then handed straight back.
        assert await soon_free(lock.path)
        assert await lock.acquire(1) is True
        lock.release()

    async def test_a_cancelled_writer_does_not_keep_the_lock(self, lock: FileWriteLock) -> None:
        with held_elsewhere(lock.path) as holder:
            waiting = asyncio.ensure_future(lock.acquire(30))
            await asyncio.sleep(0.05)
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
            let_go(holder)
        assert await soon_free(lock.path)

    def test_in_memory_databases_have_no_file_lock(self) -> None:
        assert writelock.open_for(":memory:") is None
        assert writelock.open_for(None) is None


class TestWriteTransactionsTakeTurns:
    async def test_a_write_waits_while_another_process_holds_the_turn(self, tmp_path: Path) -> None:
        db = tmp_path / "turns.db"
        engine = create_engine(f"sqlite:///{db}")
        sessions = session_factory(engine)
        try:
            async with unit_of_work(sessions) as session:
                await session.execute(text("CREATE TABLE log (n INTEGER)"))
            with held_elsewhere(Path(f"{db}{writelock.SUFFIX}")) as holder:
                async def write() -> None:
                    async with unit_of_work(sessions) as session:
                        await session.execute(text("INSERT INTO log VALUES (1)"))

                writing = asyncio.ensure_future(write())
                await asyncio.sleep(0.2)
                assert not writing.done()
                let_go(holder)
                await writing
            async with sessions() as session:
                assert (await session.execute(text("SELECT COUNT(*) FROM log"))).scalar_one() == 1
        finally:
            await engine.dispose()
