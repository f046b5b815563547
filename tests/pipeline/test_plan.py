"""Merging an LLM's draft into the local plan (pure)."""

from __future__ import annotations

from firmscout.entities import INFERRED_CRITERIA_MAX, Constraints, Criterion, PlanDraft
from firmscout.pipeline.stages.plan import (
    MAX_EXPANSION_TERMS,
    expansion_terms,
    make_plan,
    merge_constraints,
    refine_plan,
    valid_criteria,
)

MODEL_CRITERIA = (
    Criterion("core_business", "Core business", "The company is a retail or commercial bank."),
    Criterion("hq", "Headquarters", "The company is headquartered in Spain."),
)


def _draft(criteria: tuple[Criterion, ...] = MODEL_CRITERIA, constraints: Constraints = Constraints(),
           terms: tuple[str, ...] = ()) -> PlanDraft:
    return PlanDraft(criteria=criteria, constraints=constraints, search_terms=terms, model="m1")


class TestCriteria:
    def test_inferred_criteria_are_replaced_by_the_models(self) -> None:
        plan = refine_plan(make_plan("banks in Spain", []), _draft())
        assert plan.criteria == MODEL_CRITERIA and plan.criteria_inferred
        assert plan.planned_by == "llm:m1"

    def test_the_callers_criteria_are_never_replaced(self) -> None:
        given = [{"key": "retail", "name": "Retail", "criterion": "The company serves retail customers."}]
        plan = refine_plan(make_plan("banks in Spain", given), _draft())
        assert [c.to_dict() for c in plan.criteria] == given and not plan.criteria_inferred

    def test_no_usable_criterion_keeps_the_local_ones(self) -> None:
        local = make_plan("banks in Spain", [])
        plan = refine_plan(local, _draft(criteria=(Criterion("x", "X", "too short"),)))
        assert plan.criteria == local.criteria

    def test_criteria_are_made_to_fit_the_spec(self) -> None:
        fitted = valid_criteria([
            Criterion("Industry Focus!", "Industry", "The company is a bank."),
            Criterion("industry_focus", "Industry again", "The company offers banking services."),
            Criterion("2nd-facet", "", "The company is headquartered in Spain " + "x" * 600),
            *(Criterion(f"k{i}", f"K{i}", f"The company does thing number {i}.") for i in range(10)),
        ])
        assert [c.key for c in fitted[:3]] == ["industry_focus", "industry_focus_2", "nd_facet"]
        assert fitted[2].name == "2nd-facet" and len(fitted[2].criterion) == 500
        assert len(fitted) == INFERRED_CRITERIA_MAX


class TestConstraints:
    def test_the_parsers_readings_win(self) -> None:
        local = make_plan("banks in Spain founded before 1900", []).constraints
        merged = merge_constraints(local, Constraints(countries=("Portugal",), founded_before=1950))
        assert merged.countries == ("Spain",) and merged.founded_before == 1899

    def test_the_model_fills_facets_the_parser_missed(self) -> None:
        merged = merge_constraints(Constraints(topics=("bank",)), Constraints(
            countries=("USA", "Nordic", "Atlantis"), min_employees=50, max_employees=500, founded_after=2010))
        assert merged.countries == ("United States", "Sweden", "Norway", "Denmark", "Finland", "Iceland")
        assert (merged.min_employees, merged.max_employees, merged.founded_after) == (50, 500, 2010)
        assert merged.topics == ("bank",)

    def test_implausible_bounds_are_dropped(self) -> None:
        merged = merge_constraints(Constraints(), Constraints(min_employees=500, max_employees=50,
                                                              founded_after=3000))
        assert (merged.min_employees, merged.max_employees, merged.founded_after) == (None, None, None)


class TestExpansion:
    def test_new_short_specific_terms_are_kept_in_order(self) -> None:
        terms = expansion_terms(["Lender", "bank", "Company", "credit institution", "a very long sentence that "
                                 "is not a search term", "  savings   bank. ", "lender", "123"], ["bank", "banking"])
        assert terms == ("lender", "credit institution", "savings bank")

    def test_bounded(self) -> None:
        assert len(expansion_terms([f"term{i}" for i in range(40)], [])) == MAX_EXPANSION_TERMS

    def test_the_search_uses_both_the_parsers_and_the_models_terms(self) -> None:
        plan = refine_plan(make_plan("banks in Spain", []), _draft(terms=("lender", "savings institution")))
        assert plan.expansion_terms == ("savings institution",), "lender is a local term already"
        assert plan.all_search_terms[: len(plan.search_terms)] == plan.search_terms
        assert plan.all_search_terms[-1] == "savings institution"


class TestWebSearches:
    def test_the_local_searches_stay_first_and_the_models_new_ones_follow(self) -> None:
        local = make_plan("banks in Spain", [])
        draft = PlanDraft(criteria=MODEL_CRITERIA, constraints=Constraints(), search_terms=(), model="m1",
                          web_searches=("Spanish retail banks list", "banks in  spain", "banca", "x" * 300))
        plan = refine_plan(local, draft)
        assert plan.web_searches[: len(local.web_searches)] == local.web_searches and local.web_searches
        assert plan.web_searches[len(local.web_searches):] == ("Spanish retail banks list",), \
            "a repeat, a single word and an over-long search are left out"

    def test_at_most_three_of_the_models_searches_are_kept(self) -> None:
        draft = PlanDraft(criteria=MODEL_CRITERIA, constraints=Constraints(), search_terms=(), model="m1",
                          web_searches=tuple(f"spanish bank list {i}" for i in range(6)))
        local = make_plan("banks in Spain", [])
        assert len(refine_plan(local, draft).web_searches) == len(local.web_searches) + 3
