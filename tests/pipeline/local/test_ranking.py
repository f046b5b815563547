"""High-fit rule (spec §4.2), relevance 0-100 (decision 6), the result order's tie-breakers and the
structured pre-filter."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firmscout.entities import CompanyProfile, Criterion, Grade
from firmscout.pipeline.local import infer_criteria, is_high_fit, passes_prefilter, plan_for_criteria, relevance
from firmscout.pipeline.local.ranking import (
    LISTED_WEIGHT,
    evidence_strength,
    failed_criteria,
    prefilter,
    prefilter_losses,
    prominence,
)


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


def test_failed_criteria_are_the_ones_graded_below_4() -> None:
    assert failed_criteria(scores(5, 3, 4, 1)) == ("c1", "c3")
    assert failed_criteria(scores(4, 5)) == ()


class TestEvidenceStrength:
    def test_more_criteria_stated_outright_is_stronger_at_the_same_sum(self) -> None:
        assert evidence_strength(scores(5, 5, 4, 2)) > evidence_strength(scores(4, 4, 4, 4))

    def test_then_more_distinct_pages_cited(self) -> None:
        one = {"a": Grade(5, "x", ("https://a.es",)), "b": Grade(4, "y", ("https://a.es",))}
        two = {"a": Grade(5, "x", ("https://a.es",)), "b": Grade(4, "y", ("https://en.wikipedia.org/wiki/A",))}
        assert evidence_strength(two) == evidence_strength(one) + 1

    def test_pages_never_outweigh_one_more_five(self) -> None:
        many = {"a": Grade(4, "x", tuple(f"https://a.es/{i}" for i in range(500)))}
        assert evidence_strength(many) < evidence_strength({"a": Grade(5, "x")})


class TestProminence:
    def test_log_scaled_headcount(self) -> None:
        assert [prominence(CompanyProfile("a.es", "A", employees=n)) for n in (10, 1000, 100_000)] == [100, 300, 500]

    def test_a_size_bucket_counts_at_its_lower_bound(self) -> None:
        assert prominence(CompanyProfile("a.es", "A", employee_count="1001-5000")) == 300

    def test_a_listed_company_or_one_with_revenue_ranks_above_an_unknown_one(self) -> None:
        unknown = prominence(CompanyProfile("a.es", "A"))
        assert unknown == 0
        assert prominence(CompanyProfile("a.es", "A", status="Public")) == LISTED_WEIGHT
        assert prominence(CompanyProfile("a.es", "A", revenue="€1.2bn")) == LISTED_WEIGHT
        assert prominence(CompanyProfile("a.es", "A", status="active")) == unknown

    def test_website_authority_adds_when_known(self) -> None:
        assert prominence(CompanyProfile("a.es", "A"), website_authority=40) == 40


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

    def test_names_the_criteria_that_rule_a_candidate_out(self) -> None:
        plan = infer_criteria("banks in Spain founded before 1900")
        old_german = CompanyProfile(domain="c.de", name="C", country="Germany", founded_year=1870)
        young_german = CompanyProfile(domain="n.de", name="N", country="Germany", founded_year=2015)
        assert prefilter_losses(plan, old_german) == ("geography",)
        assert prefilter(plan, old_german) == ("geography",), "1 of 3 lost: 75% can no longer be met"
        assert prefilter(plan, young_german) == ("geography", "founding_year")
        assert prefilter(plan, CompanyProfile(domain="b.es", name="B", country="Spain")) == ()
