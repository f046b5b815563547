"""A file's records in batches, read and cleaned in a worker thread or, for large files, a child process.

A child process reads and cleans on another core while the parent writes the previous batch, where a thread
would share the GIL with the writes; starting one is costly, so small files stay in a thread.
"""

from __future__ import annotations

import multiprocessing
import queue
from collections.abc import Iterator
from dataclasses import fields
from itertools import islice
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from firmscout.catalog.readers import FieldMap, ReadResult, read_records
from firmscout.entities import CompanyProfile
from firmscout.errors import ImportFailed

Mode = Literal["thread", "process"]
# Files this large (bytes on disk) are read in a child process when the caller does not choose.
PROCESS_THRESHOLD = 8 * 1024 * 1024
# Batches the child may read ahead of the writes: bounds the parent's memory.
_AHEAD = 2
_POLL_S = 1.0


def choose_mode(path: Path) -> Mode:
    try:
        size = path.stat().st_size
    except OSError:
        return "thread"  # the reader reports the missing file
    return "process" if size >= PROCESS_THRESHOLD else "thread"


def _produce(path: Path, mapping: FieldMap | None, batch_size: int, out: multiprocessing.Queue[object]) -> None:
    """Child process: put ("chunk", rows) per batch, then ("end", None), or ("error", message)."""
    try:
        results = read_records(path, mapping)
        while chunk := list(islice(results, batch_size)):
            # Plain tuples: the parent unpickles them faster than dataclasses (see _from_values).
            out.put(("chunk", [(_values(r) if r is not None else None, why) for r, why in chunk]))
        out.put(("end", None))
    except ImportFailed as exc:
        out.put(("error", str(exc)))
    except Exception as exc:  # anything else still has to reach the parent, which is waiting for a batch
        out.put(("error", f"Reading {path.name} failed: {type(exc).__name__}: {exc}"))


class ChunkReader:
    """`next_chunk()` returns the next batch of `(record, skip reason)` results; `[]` at the end.

    Not thread-safe: one call at a time (the import awaits each read before starting the next).
    Use as a context manager, so a child process is stopped when the import ends or fails.
    """

    def __init__(self, path: Path, mapping: FieldMap | None, batch_size: int, mode: Mode) -> None:
        self._batch_size = batch_size
        self._results: Iterator[ReadResult] | None = None
        self._process: multiprocessing.process.BaseProcess | None = None
        self._done = False
        if mode == "thread":
            self._results = read_records(path, mapping)
            return
        # spawn, not fork: the parent has threads (the SQLite driver's, the event loop's executor).
        context = multiprocessing.get_context("spawn")
        self._queue: multiprocessing.Queue[object] = context.Queue(maxsize=_AHEAD)
        self._process = context.Process(
            target=_produce, args=(path, mapping, batch_size, self._queue), name="firmscout-import-reader",
            daemon=True,
        )
        self._process.start()

    def next_chunk(self) -> list[ReadResult]:
        if self._done:
            return []
        if self._results is not None:
            return list(islice(self._results, self._batch_size))
        assert self._process is not None
        while True:
            try:
                message: tuple[str, Any] = self._queue.get(timeout=_POLL_S)  # type: ignore[assignment]
                break
            except queue.Empty:
                if not self._process.is_alive():
                    self._done = True
                    raise ImportFailed(
                        f"The import's reader process stopped (exit code {self._process.exitcode}) before the "
                        "end of the file: rerun the import; if it stops again, check the machine's memory."
                    ) from None
        kind, payload = message
        if kind == "chunk":
            return [(_from_values(v) if v is not None else None, why) for v, why in payload]
        self._done = True
        if kind == "error":
            raise ImportFailed(str(payload))
        return []

    def close(self) -> None:
        if self._process is not None:
            if self._process.is_alive():
                self._process.terminate()
            self._process.join()
            self._queue.close()
            self._process = None
        if self._results is not None and hasattr(self._results, "close"):
            self._results.close()  # closes the file

    def __enter__(self) -> ChunkReader:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


_FIELDS = tuple(f.name for f in fields(CompanyProfile))


def _values(company: CompanyProfile) -> tuple[Any, ...]:
    return tuple([getattr(company, name) for name in _FIELDS])


def _from_values(values: tuple[Any, ...]) -> CompanyProfile:
    # Rebuilt without re-running __init__ on values that were valid when sent: a plain tuple unpickles faster
    # than a dataclass, and an import sends them by the thousand.
    company = object.__new__(CompanyProfile)
    company.__dict__.update(zip(_FIELDS, values, strict=True))
    return company
