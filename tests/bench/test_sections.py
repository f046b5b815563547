"""What the bench commands write into docs/benchmarks.md: current tables between markers, no dated run log."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bench import common, web_app
from bench.common import check_block, write_section
from bench.importer import YC, ImportFigures
from bench.load.api import Result, process_counts, section, verdicts
from bench.quality.__main__ import Outcome
from bench.quality.__main__ import block as quality_block
from bench.quality.metrics import Scores
from bench.report import BackendFigures, ConcurrencyFigures, MemoryFigures, QueryFigures, block
from bench.scaling import Drain, PostgresBackend, SQLiteBackend, render
from bench.scaling import section as scaling_section
from bench.stats import Summary
from firmscout.config import LLMSettings


class TestCheckBlock:
    def test_a_table_with_its_header_line_fits(self) -> None:
        check_block("Host: x86_64, Python 3.11.7. 80 tasks:\n\n| a | b |\n|---|---:|\n| x | 1 |")

    def test_nested_markers_fit(self) -> None:
        check_block("<!-- load-api:start -->\n| a |\n<!-- load-api:end -->\n\n| b |")

    @pytest.mark.parametrize("section", ["## Worker scaling\n\n| a |", "| a |\n\n### Per query\n\n| b |"])
    def test_a_heading_does_not(self, section: str) -> None:
        with pytest.raises(ValueError, match="heading"):
            check_block(section)

    @pytest.mark.parametrize("line", ["Run 2026-11-29 15:48 UTC on 2 cores.", "started 2026-11-29T15:48:00"])
    def test_a_date_and_time_does_not(self, line: str) -> None:
        with pytest.raises(ValueError, match="date and time"):
            check_block(f"{line}\n\n| a |")


class TestWriteSection:
    def test_replaces_only_its_own_block(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        doc = tmp_path / "benchmarks.md"
        doc.write_text("# Benchmarks\n\n## Load\n\nBy hand.\n\n<!-- load:start -->\nold\n<!-- load-api:start -->\n"
                       "old api\n<!-- load-api:end -->\n<!-- load:end -->\n\n**Method.** By hand.\n")
        monkeypatch.setattr(common, "DOC", doc)
        write_section("load-api", "| new api |")
        assert doc.read_text() == ("# Benchmarks\n\n## Load\n\nBy hand.\n\n<!-- load:start -->\nold\n"
                                   "<!-- load-api:start -->\n| new api |\n<!-- load-api:end -->\n<!-- load:end -->\n\n"
                                   "**Method.** By hand.\n")

    def test_refuses_a_dated_block_and_leaves_the_file(self, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
        doc = tmp_path / "benchmarks.md"
        doc.write_text("<!-- scaling:start -->\nold\n<!-- scaling:end -->\n")
        monkeypatch.setattr(common, "DOC", doc)
        with pytest.raises(ValueError):
            write_section("scaling", "## Worker scaling\n\nRun 2026-11-29 15:48 UTC\n\n| a |")
        assert doc.read_text() == "<!-- scaling:start -->\nold\n<!-- scaling:end -->\n"


def _queries(task_s: float, search_s: float, sql: int) -> list[QueryFigures]:
    return [QueryFigures("banks in Spain", [task_s] * 3, [search_s] * 3, results=4, candidates=4, sql_statements=sql,
                         sql_transactions=sql // 2)]


def _backend(database: str, scale: float) -> BackendFigures:
    imports = [ImportFigures(YC, rows=4663, companies=4628, skipped=31, import_s=3.8 * scale,
                             parse=Summary.of([1.0, 1.1]))]
    return BackendFigures(
        database, companies_before=1508, companies_after=6136, queries=_queries(0.1 * scale, 0.008, 44),
        concurrency=ConcurrencyFigures(20, 2, Summary.of([3.6 * scale]), 280, 3.2),
        memory=MemoryFigures(121, 114, 121, 0.82, 0.37), imports=imports,
        after_import=_queries(0.5 * scale, 0.05, 0))


class TestPipelineBlock:
    def test_backends_side_by_side(self) -> None:
        text = block([_backend("SQLite", 1.0), _backend("PostgreSQL 15.20", 2.0)], repeats=3)
        check_block(text)
        lines = text.splitlines()
        assert lines[0] == ("Task latency, 100 results asked: 1 queries × 3 runs on the built-in 1,508 companies, "
                            "1 queries × 3 runs after the imports (6,136 companies):")
        assert [line.split(" | ")[:2] for line in lines if line.startswith(("| SQLite", "| PostgreSQL"))] == [
            ["| SQLite", "1,508"], ["| PostgreSQL 15.20", "1,508"], ["| SQLite", "6,136"],
            ["| PostgreSQL 15.20", "6,136"]]
        assert "| measure | SQLite | PostgreSQL 15.20 |" in lines
        assert "| import YC directory (4,663 rows, 4,628 companies, 31 skipped) | " in text
        assert lines[-1].startswith("**PostgreSQL / SQLite:** median task 2.0×")


def _drain(workers: int, seconds: float, variant: str = "this checkout") -> Drain:
    return Drain(variant, workers, seconds, results=800, candidates=900, failed=0, worker_cpu_s=8.0, db_cpu_s=2.4,
                 machine_busy_cores=1.2)


class TestScalingBlock:
    def test_sqlite_has_one_worker_and_postgresql_several(self) -> None:
        assert SQLiteBackend.worker_counts == (1,)
        assert PostgresBackend.worker_counts == (1, 2, 4)

    def test_rows_without_a_code_column_unless_a_baseline_ran(self) -> None:
        postgres = PostgresBackend.__new__(PostgresBackend)  # no database: render reads class attributes only
        rows = render(postgres, [_drain(1, 8.0), _drain(2, 5.0), _drain(4, 6.0)], 80, with_code=False)
        rows += render(SQLiteBackend(Path("/nonexistent")), [_drain(1, 7.8)], 80, with_code=False)
        text = scaling_section(rows, [], n_tasks=80, companies=28577, rounds=1, baseline=None)
        check_block(text)
        assert "80 tasks on 28,577 companies, 1 round per worker count:" in text
        assert [r.split(" | ")[:2] for r in rows] == [["| PostgreSQL", "1"], ["| PostgreSQL", "2"],
                                                       ["| PostgreSQL", "4"], ["| SQLite", "1"]]
        assert "| PostgreSQL | 2 | 5.00 | 960 | 160 | **1.60×** | 100 | 30 | 1.20 | 0.00 | 0 |" in rows

    def test_a_baseline_adds_the_code_column(self) -> None:
        runs = [_drain(1, 8.0, "baseline"), _drain(1, 7.0)]
        rows = render(SQLiteBackend(Path("/nonexistent")), runs, 80, with_code=True)
        text = scaling_section(rows, [], n_tasks=80, companies=1, rounds=1, baseline="/tmp/base/src")
        check_block(text)
        assert rows[0].startswith("| SQLite | baseline | 1 |") and rows[1].startswith("| SQLite | this checkout | 1 |")
        assert "| database | code | workers |" in text


def _result(code: str, database: str, processes: int, request: str, rps: float, p99: float) -> Result:
    return Result(code, database, processes, request, rps, p50=10.0, p99=p99, server_p99=math.nan, errors=0,
                  cpu_s=10.0, requests=rps * 10)


class TestLoadApiBlock:
    def test_several_api_processes_only_on_postgresql(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert process_counts("postgresql", [1, 2]) == [1, 2]
        assert process_counts("sqlite", [1, 2]) == [1]
        assert "2 API processes skipped" in capsys.readouterr().out
        assert process_counts("sqlite", [2]) == []

    def test_verdicts_of_this_branch_only(self) -> None:
        rows = [_result("baseline (base)", "sqlite", 1, "GET task", 2000, 20),
                _result("this branch", "sqlite", 1, "GET task", 1805, 42),
                _result("this branch", "sqlite", 1, "POST create", 102, 390),
                _result("this branch", "postgresql", 2, "GET task", 584, 92)]
        assert verdicts(rows) == (
            "Issue 4 targets (GET task ≥ 1,000/s with p99 < 50 ms; creates ≥ 200/s): met by GET task on sqlite, "
            "1 process (1,805/s, p99 42 ms). NOT met by creates on sqlite, 1 process (102/s); GET task on "
            "postgresql, 2 processes (584/s, p99 92 ms).")

    def test_code_column_only_with_a_baseline(self) -> None:
        mine = [_result("this branch", "sqlite", 1, "GET task", 869, 278)]
        plain = section(mine, 10, 32)
        check_block(plain)
        assert plain.splitlines()[2].startswith("| database | API processes |")
        assert "| sqlite | 1 | GET task | 869 |" in plain
        with_base = section([_result("baseline (base)", "sqlite", 1, "GET task", 820, 167), *mine], 10, 32,
                            Path("/tmp/base/src"))
        check_block(with_base)
        assert "baseline = `/tmp/base/src`, one process" in with_base
        assert "| baseline (base) | sqlite | 1 | GET task | 820 |" in with_base


class TestQualityBlock:
    def test_summary_weakest_and_per_query(self) -> None:
        queries = (("builtin", "banks in Spain", False), ("yc", "fintech in Nigeria", True))
        outcomes = [Outcome(corpus, query, held, method, Scores(p, 1.0, f1, 1.0), 0.01, 5, 4)
                    for corpus, query, held in queries
                    for method, p, f1 in (("bm25", 0.1, 0.2), ("local", 0.8, 0.9 if corpus == "builtin" else 0.4))]
        text = quality_block(outcomes, None)
        check_block(text)
        assert text.splitlines()[0].endswith(
            ", 2 labelled queries, 100 results asked per query, recall against min(|truth|, 100):")
        with_llm = quality_block(outcomes, LLMSettings(model="llama3.1:8b", temperature=0.0))
        assert with_llm.splitlines()[0].endswith(", `llm` = `llama3.1:8b` (temperature 0.0):")
        assert 'Weakest local F1: "fintech in Nigeria" (yc) 0.40, "banks in Spain" (builtin) 0.90.' in text
        assert "Per query:" in text


class TestWebAppSection:
    def _timings(self, page_ms: float) -> list[web_app.Timing]:
        return [web_app.Timing("API JSON (baseline)", [20.0, 22.0], 1000),
                web_app.Timing("task page, all results", [page_ms, page_ms + 5], 5000)]

    def test_is_a_dateless_block_with_ratios_to_the_api(self) -> None:
        text = web_app.section("SQLite", 250, 250, 2, self._timings(60.0))
        check_block(text)
        assert "| task page, all results | 62.5 ms | 65.0 ms | 2.98× | 5 KiB |" in text
        assert text.endswith("met (median 62.5 ms, p95 65.0 ms).")

    def test_the_target_is_the_page_s_p95_with_every_result_on_it(self) -> None:
        assert "not met" in web_app.section("SQLite", 250, 250, 2, self._timings(120.0))
        assert "not met" in web_app.section("SQLite", 250, 200, 2, self._timings(10.0))
