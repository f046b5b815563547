"""The quality benchmark's arithmetic and labelling rules (pure)."""

from __future__ import annotations

import pytest

from bench.quality.labels import all_of, country, founded, ind, staff
from bench.quality.metrics import macro, score
from bench.quality.queries import QUERIES
from tests.factories import company


class TestScore:
    def test_perfect_answer(self) -> None:
        s = score(["a.com", "b.com"], {"a.com", "b.com"}, k=100)
        assert (s.precision, s.recall, s.f1, s.ndcg10) == (1.0, 1.0, 1.0, 1.0)

    def test_recall_is_against_what_k_results_can_hold(self) -> None:
        truth = {f"{i}.com" for i in range(300)}
        s = score([f"{i}.com" for i in range(100)], truth, k=100)
        assert s.recall == 1.0 and s.precision == 1.0

    def test_misses_and_ranks(self) -> None:
        s = score(["x.com", "a.com"], {"a.com", "b.com"}, k=100)
        assert s.precision == 0.5 and s.recall == 0.5 and s.f1 == pytest.approx(0.5)
        assert 0 < s.ndcg10 < 1

    def test_empty_answer_scores_zero(self) -> None:
        assert score([], {"a.com"}, k=10).f1 == 0.0

    def test_macro_average(self) -> None:
        m = macro([score(["a.com"], {"a.com"}, 10), score(["x.com"], {"a.com"}, 10)])
        assert m.precision == 0.5 and m.f1 == 0.5


class TestLabels:
    def test_rules_read_structured_fields(self) -> None:
        rule = all_of(country("Spain"), ind("bank"), founded(before=1900), staff(over=10_000))
        assert rule(company("bbva.com", "BBVA", country="Spain", industries=("Banks",), founded_year=1857,
                            employees=125_000))
        assert not rule(company("db.com", "Deutsche Bank", country="Germany", industries=("Banks",),
                                founded_year=1870, employees=90_000))

    def test_at_least_60_queries_and_half_held_out(self) -> None:
        assert len(QUERIES) >= 60
        assert sum(q.held_out for q in QUERIES) * 2 == len(QUERIES)
        assert {q.corpus for q in QUERIES} == {"builtin", "yc", "fd"}
