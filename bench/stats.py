"""Summaries of repeated timings, and the facts about the machine that make a figure comparable."""

from __future__ import annotations

import math
import os
import platform
import resource
import statistics
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a live process has used; 0 once it is gone (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def nearest_rank(ordered: list[float], q: float) -> float:
    """The q-quantile (0 < q <= 1) of sorted samples by nearest rank: always one of the samples."""
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


@dataclass(frozen=True)
class Summary:
    """Repeated samples of one quantity. p90 is nearest-rank, so with fewer than 10 samples it is the max."""

    n: int
    median: float
    p90: float
    min: float

    @classmethod
    def of(cls, samples: list[float]) -> Summary:
        if not samples:
            return cls(0, math.nan, math.nan, math.nan)
        ordered = sorted(samples)
        return cls(len(ordered), statistics.median(ordered), nearest_rank(ordered, 0.9), ordered[0])


def ratio(a: float, b: float) -> str:
    return f"{a / b:.1f}×" if b > 0 and not math.isnan(a) else "n/a"


def peak_rss_mib() -> float:
    """The process's peak resident set so far (Linux reports ru_maxrss in KiB); it never goes down."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mib() -> float:
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return math.nan
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def cpu_count() -> int:
    """What `nproc` prints: the CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def host() -> str:
    """The machine a section's figures come from: CPU model, cores, Python. No date: git dates a rewrite."""
    return f"{_cpu_model()}, {cpu_count()} cores ({platform.machine()}), Python {platform.python_version()}"


def machine_line() -> str:
    """`host()` and the load average at start, printed (not written) so a run on a busy machine shows it."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (math.nan,) * 3
    return f"{host()}; load average at start {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}"
