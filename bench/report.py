"""The figures `bench.pipeline` collects for one database backend, and their Markdown rendering."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from bench.importer import ImportFigures
from bench.stats import Summary, ratio


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
    title: str
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


def _sql_total(rows: list[QueryFigures]) -> str:
    counted = [r for r in rows if r.sql_statements]
    if not counted:
        return "–"
    n = len(counted)
    return (f"{sum(r.sql_statements for r in counted) / n:.0f} "
            f"({sum(r.sql_transactions for r in counted) / n:.0f}) avg")


def _pooled(rows: list[QueryFigures]) -> tuple[Summary, Summary, float, float]:
    tasks = Summary.of([s for r in rows for s in r.task_s])
    searches = Summary.of([s for r in rows for s in r.search_s])
    return tasks, searches, sum(r.task.median for r in rows), sum(r.search.median for r in rows)


def latency_table(rows: list[QueryFigures]) -> list[str]:
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
                 + (f" {_sql_total(rows)} |" if counted else ""))
    return lines


def render(b: BackendFigures, repeats: int) -> str:
    lines = [f"### {b.title}", "",
             f"Task latency on the built-in database ({b.companies_before:,} companies), 100 results asked, "
             f"{repeats} runs per query after one warm-up, interleaved with the bare search:", ""]
    lines += latency_table(b.queries)
    lines += ["", "| measure | figure |", "|---|---|"]
    if c := b.concurrency:
        rounds = f"{c.elapsed.n} round{'s' if c.elapsed.n != 1 else ''}"
        lines.append(
            f"| {c.n_tasks} tasks created at once, 1 worker, concurrency {c.concurrency} ({rounds}) | "
            f"median {c.elapsed.median:.2f} s (min {c.elapsed.min:.2f}, p90 {c.elapsed.p90:.2f}) = "
            f"**{c.tasks_per_min:,.0f} tasks/min, {c.results_per_s:,.0f} results/s**; "
            f"speed-up {ratio(c.one_at_a_time_s, c.elapsed.median)} over the same tasks one at a time "
            f"(sum of their median latencies, {c.one_at_a_time_s:.2f} s) |")
    for f in b.imports:
        lines.append(
            f"| import {f.file.label} ({f.file.path.name}) | {f.rows:,} rows in {f.import_s:.1f} s = "
            f"**{f.rows_per_s:,.0f} rows/s** ({f.companies:,} companies, {f.skipped:,} rows skipped); reading "
            f"and cleaning alone {f.parse.median:.2f} s (median of {f.parse.n}), so writing costs "
            f"{ratio(f.import_s, f.parse.median)} the parse |")
    if m := b.memory:
        lines.append(
            f"| memory, task-latency phase | peak RSS of the process {m.peak_rss_mib:.0f} MiB (RSS "
            f"{m.rss_before_mib:.0f} → {m.rss_after_mib:.0f} MiB across the phase); Python heap peak (tracemalloc) "
            f"{m.tasks_heap_peak_mib:.2f} MiB over one task per query vs {m.search_heap_peak_mib:.2f} MiB for "
            f"the bare searches ({ratio(m.tasks_heap_peak_mib, m.search_heap_peak_mib)}) |")
    if b.failed_tasks:
        lines.append(f"| failed tasks | {b.failed_tasks} (see stderr) |")
    if b.after_import:
        lines += ["", f"After the imports ({b.companies_after:,} companies):", ""]
        lines += latency_table(b.after_import)
    if b.notes:
        lines += [""] + [f"- {n}" for n in b.notes]
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
        parts.append(f"import {fa.file.label} rows/s {ratio(fb.rows_per_s, fa.rows_per_s)}")
    return f"**{b.title.split(' (')[0]} / {a.title.split(' (')[0]}**: " + ", ".join(parts) + "."
