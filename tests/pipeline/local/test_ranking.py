"""High-fit rule (spec §4.2), relevance 0-100 (decision 6) and the structured pre-filter."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firmscout.entities import CompanyProfile, Criterion, Grade
from firmscout.pipeline.local import infer_criteria, is_high_fit, passes_prefilter, plan_for_criteria, relevance


def scores(*grades: int) -> dict[str, Grade]:
    return {f"c{i}": Grade(g, "because") for i, g in enumerate(grades)}


@pytest.mark.parametrize(("total", "needed"), [(1, 1), (2, 2), (3, 3), (4, 3), (5, 4)], ids=lambda v: str(v))
def test_high_fit_needs_75_percent_graded_4_or_5(total: int, needed: int) -> None:
    assert is_high_fit(scores(*([5] * needed + [1] * (total - needed))))
    assert not is_high_fit(scores(*([4] * (needed - 1) + [3] * (total - needed + 1))))


def test_no_criteria_is_not_high_fit() -> None:
    assert not is_high_fit({})


def test_relevance_formula() -> None:
    assert relevance(scores(5, 5)) == 100
    assert relevance(scores(1, 1)) == 0
    assert relevance(scores(5, 1)) == 50
    assert relevance(scores(4)) == 75
    assert relevance({}) == 0


@given(st.lists(st.integers(min_value=1, max_value=5), max_size=10))
def test_relevance_bounds_and_order(grades: list[int]) -> None:
    value = relevance(scores(*grades))
    assert 0 <= value <= 100
    if grades and min(grades) < 5:
        assert relevance(scores(*[min(g + 1, 5) for g in grades])) > value


class TestPrefilter:
    def test_known_wrong_country_is_dropped(self) -> None:
        plan = infer_criteria("banks in Spain")
        assert not passes_prefilter(plan, CompanyProfile(domain="c.de", name="C", country="Germany"))
        assert passes_prefilter(plan, CompanyProfile(domain="b.es", name="B", country="Spain"))

    def test_missing_data_passes(self) -> None:
        plan = infer_criteria("banks in Spain with over 1,000 employees")
        assert passes_prefilter(plan, CompanyProfile(domain="x.com", name="X"))

    def test_one_miss_in_four_criteria_can_still_be_high_fit(self) -> None:
        criteria = [
            Criterion("bank", "Bank", "The company is a bank."),
            Criterion("spain", "Spain", "Headquartered in Spain."),
            Criterion("old", "Old", "Founded before 1900."),
            Criterion("retail", "Retail", "Serves retail customers."),
        ]
        plan = plan_for_criteria("banks", criteria)
        german = CompanyProfile(domain="c.de", name="C", country="Germany", founded_year=1870)
        assert passes_prefilter(plan, german)
        young_german = CompanyProfile(domain="n.de", name="N", country="Germany", founded_year=2015)
        assert not passes_prefilter(plan, young_german)
