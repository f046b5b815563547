"""The figures `bench.pipeline` collects for each database backend, and their Markdown rendering: per-query
tables for the terminal, one block of backends side by side for docs/benchmarks.md."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from bench.importer import ImportFigures
from bench.stats import Summary, ratio

DESIRED = 100  # results asked of every task


@dataclass
class QueryFigures:
    query: str
    task_s: list[float] = field(default_factory=list)  # end to end: create → worker → polled "done"
    search_s: list[float] = field(default_factory=list)  # the bare full-text search: the cost floor
    results: int = 0
    candidates: int = 0
    search_hits: int = 0
    sql_statements: int = 0  # run by the worker side for one task (untimed pass)
    sql_transactions: int = 0

    @property
    def task(self) -> Summary:
        return Summary.of(self.task_s)

    @property
    def search(self) -> Summary:
        return Summary.of(self.search_s)


@dataclass(frozen=True)
class ConcurrencyFigures:
    n_tasks: int
    concurrency: int
    elapsed: Summary  # seconds from the first create to the last task done, per round
    results: int  # per round
    one_at_a_time_s: float  # the same tasks' median end-to-end latencies, summed

    @property
    def tasks_per_min(self) -> float:
        return self.n_tasks / self.elapsed.median * 60

    @property
    def results_per_s(self) -> float:
        return self.results / self.elapsed.median


@dataclass(frozen=True)
class MemoryFigures:
    peak_rss_mib: float  # process peak so far, read right after the task-latency phase
    rss_before_mib: float
    rss_after_mib: float
    tasks_heap_peak_mib: float  # tracemalloc, one task per query, in a separate untimed pass
    search_heap_peak_mib: float  # tracemalloc, one bare search per query


@dataclass
class BackendFigures:
    database: str  # as the block's rows and columns name it: "SQLite", "PostgreSQL 15.20"
    companies_before: int = 0
    companies_after: int = 0
    failed_tasks: int = 0
    queries: list[QueryFigures] = field(default_factory=list)
    concurrency: ConcurrencyFigures | None = None
    memory: MemoryFigures | None = None
    imports: list[ImportFigures] = field(default_factory=list)
    after_import: list[QueryFigures] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _ms(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x * 1000:.0f}" if x >= 0.1 else f"{x * 1000:.1f}"


def _sql(r: QueryFigures) -> str:
    return f"{r.sql_statements} ({r.sql_transactions})"


def _sql_avg(rows: list[QueryFigures]) -> str:
    counted = [r for r in rows if r.sql_statements]
    if not counted:
        return ""
    n = len(counted)
    return f"{sum(r.sql_statements for r in counted) / n:.0f} ({sum(r.sql_transactions for r in counted) / n:.0f})"


def _pooled(rows: list[QueryFigures]) -> tuple[Summary, Summary, float, float]:
    tasks = Summary.of([s for r in rows for s in r.task_s])
    searches = Summary.of([s for r in rows for s in r.search_s])
    return tasks, searches, sum(r.task.median for r in rows), sum(r.search.median for r in rows)


def latency_table(rows: list[QueryFigures]) -> list[str]:
    """One row per query and a pooled one: printed by each run, too long for the docs' block."""
    counted = any(r.sql_statements for r in rows)
    head = "| query | task median ms | p90 ms | min ms | bare search median ms | task / search | results | candidates |"
    lines = [head + (" worker SQL statements (transactions) |" if counted else ""),
             "|---|" + "---:|" * (8 if counted else 7)]
    for r in rows:
        t, s = r.task, r.search
        lines.append(f"| {r.query} | {_ms(t.median)} | {_ms(t.p90)} | {_ms(t.min)} | {_ms(s.median)} | "
                     f"{ratio(t.median, s.median)} | {r.results} | {r.candidates} |"
                     + (f" {_sql(r)} |" if counted else ""))
    tasks, searches, task_sum, search_sum = _pooled(rows)
    n = max(len(rows), 1)
    lines.append(f"| **all {tasks.n} tasks** | {_ms(tasks.median)} | {_ms(tasks.p90)} | {_ms(tasks.min)} | "
                 f"{_ms(searches.median)} | {ratio(task_sum, search_sum)} (sum of medians) | "
                 f"{sum(r.results for r in rows) / n:.1f} avg | {sum(r.candidates for r in rows) / n:.1f} avg |"
                 + (f" {_sql_avg(rows)} avg |" if counted else ""))
    return lines


def render(b: BackendFigures) -> str:
    """One backend's per-query latency, before and after the imports, for the terminal."""
    lines = [f"{b.database}, built-in database ({b.companies_before:,} companies):", "", *latency_table(b.queries)]
    if b.after_import:
        lines += ["", f"{b.database}, after the imports ({b.companies_after:,} companies):", "",
                  *latency_table(b.after_import)]
    return "\n".join(lines)


def _summary_row(database: str, companies: int, rows: list[QueryFigures]) -> str:
    tasks, searches, task_sum, search_sum = _pooled(rows)
    n = max(len(rows), 1)
    return (f"| {database} | {companies:,} | {_ms(tasks.median)} | {_ms(tasks.p90)} | {_ms(tasks.min)} | "
            f"{_ms(searches.median)} | {ratio(task_sum, search_sum)} | {sum(r.results for r in rows) / n:.1f} | "
            f"{sum(r.candidates for r in rows) / n:.1f} | {_sql_avg(rows)} |")


def _concurrency(c: ConcurrencyFigures) -> str:
    return (f"median {c.elapsed.median:.2f} s (min {c.elapsed.min:.2f}, p90 {c.elapsed.p90:.2f}) = "
            f"**{c.tasks_per_min:,.0f} tasks/min, {c.results_per_s:,.0f} results/s**; "
            f"{ratio(c.one_at_a_time_s, c.elapsed.median)} the same tasks one at a time ({c.one_at_a_time_s:.2f} s)")


def _import(f: ImportFigures, counts: bool) -> str:
    counted = f" ({f.companies:,} companies, {f.skipped:,} skipped)" if counts else ""
    return (f"{f.import_s:.1f} s = **{f.rows_per_s:,.0f} rows/s**{counted}; parse alone {f.parse.median:.2f} s, "
            f"writing {ratio(f.import_s, f.parse.median)} the parse")


def _memory(m: MemoryFigures) -> str:
    return (f"peak RSS {m.peak_rss_mib:.0f} MiB ({m.rss_before_mib:.0f} → {m.rss_after_mib:.0f} MiB in the "
            f"phase); heap peak {m.tasks_heap_peak_mib:.2f} MiB per task vs {m.search_heap_peak_mib:.2f} MiB per "
            f"bare search ({ratio(m.tasks_heap_peak_mib, m.search_heap_peak_mib)})")


def _measures(backends: list[BackendFigures]) -> list[str]:
    """Throughput, imports and memory with one column per backend."""
    lines = ["| measure | " + " | ".join(b.database for b in backends) + " |",
             "|---|" + "---|" * len(backends)]
    if (c := backends[0].concurrency) and all(b.concurrency for b in backends):
        rounds = f"{c.elapsed.n} round{'s' if c.elapsed.n != 1 else ''}"
        lines.append(f"| {c.n_tasks} tasks at once, 1 worker, concurrency {c.concurrency} ({rounds}) | "
                     + " | ".join(_concurrency(b.concurrency) for b in backends if b.concurrency) + " |")
    for i, first in enumerate(backends[0].imports):
        same = [b.imports[i] for b in backends if len(b.imports) > i and b.imports[i].file == first.file]
        if len(same) < len(backends):
            continue
        # Counts go in the label when every backend read the file alike, else into each cell.
        alike = len({(f.rows, f.companies, f.skipped) for f in same}) == 1
        label = (f"import {first.file.label} ({first.rows:,} rows, {first.companies:,} companies, "
                 f"{first.skipped:,} skipped)" if alike else f"import {first.file.label}")
        lines.append(f"| {label} | " + " | ".join(_import(f, not alike) for f in same) + " |")
    if all(b.memory for b in backends):
        lines.append("| memory, task-latency phase | " + " | ".join(_memory(b.memory) for b in backends if b.memory)
                     + " |")
    if any(b.failed_tasks for b in backends):
        lines.append("| failed tasks (see stderr) | " + " | ".join(str(b.failed_tasks) for b in backends) + " |")
    return lines


def block(backends: list[BackendFigures], repeats: int) -> str:
    """The `pipeline` block of docs/benchmarks.md: every backend side by side, then the ratio line."""
    first = backends[0]
    after = next((b for b in backends if b.after_import), None)
    header = (f"Task latency, {DESIRED} results asked: {len(first.queries)} queries × {repeats} runs on the built-in "
              f"{first.companies_before:,} companies")
    if after is not None:
        header += f", {len(after.after_import)} queries × {repeats} runs after the imports " \
                  f"({after.companies_after:,} companies)"
    lines = [header + ":", "",
             "| database | companies | task median ms | p90 ms | min ms | bare search median ms | task / search "
             "(sum of medians) | results avg | candidates avg | worker SQL statements (transactions) avg |",
             "|---|" + "---:|" * 9]
    lines += [_summary_row(b.database, b.companies_before, b.queries) for b in backends]
    lines += [_summary_row(b.database, b.companies_after, b.after_import) for b in backends if b.after_import]
    lines += ["", *_measures(backends)]
    if len(backends) == 2:
        lines += ["", compare(*backends)]
    notes = [n for b in backends for n in b.notes]
    if notes:
        lines += ["", *(f"- {n}" for n in dict.fromkeys(notes))]
    return "\n".join(lines)


def compare(a: BackendFigures, b: BackendFigures) -> str:
    """One line per shared measure: b relative to a (e.g. PostgreSQL / SQLite)."""
    a_tasks, _, a_sum, a_search = _pooled(a.queries)
    b_tasks, _, b_sum, b_search = _pooled(b.queries)
    parts = [f"median task {ratio(b_tasks.median, a_tasks.median)}",
             f"sum of per-query medians {ratio(b_sum, a_sum)}",
             f"bare search {ratio(b_search, a_search)}"]
    if a.concurrency and b.concurrency:
        parts.append(f"concurrent throughput {ratio(b.concurrency.tasks_per_min, a.concurrency.tasks_per_min)}")
    for fa, fb in zip(a.imports, b.imports, strict=False):
        parts.append(f"{fa.file.label} import rows/s {ratio(fb.rows_per_s, fa.rows_per_s)}")
    return f"**{b.database.split()[0]} / {a.database.split()[0]}:** " + ", ".join(parts) + "."
