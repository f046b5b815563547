"""Criteria inferred from a query meet the spec's limits (§2.2, decision 11)."""

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from firmscout.entities import INFERRED_CRITERIA_MAX
from firmscout.pipeline.local import infer_criteria, parse_query

KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def test_banks_in_spain() -> None:
    plan = infer_criteria("banks in Spain")
    assert [c.key for c in plan.criteria] == ["industry_focus", "geography"]
    assert plan.criteria[0].criterion == "The company is a bank or provides banking services."
    assert plan.criteria[1].criterion == "Headquartered in Spain."
    assert plan.criteria_inferred
    assert "banking" in plan.search_terms


def test_all_four_facets() -> None:
    plan = infer_criteria("German chemical companies with over 10,000 employees founded before 1900")
    assert [c.key for c in plan.criteria] == ["industry_focus", "geography", "company_size", "founding_year"]


def test_nothing_recognised_gives_one_generic_criterion() -> None:
    plan = infer_criteria("the best ones")
    assert [c.key for c in plan.criteria] == ["matches_query"]
    assert "the best ones" in plan.criteria[0].criterion


def test_inferred_wording_parses_back_to_the_same_constraints() -> None:
    plan = infer_criteria("insurers in the Nordics with 51-200 employees founded after 2010")
    for criterion in plan.criteria[2:]:
        again = parse_query(criterion.criterion).constraints
        assert (again.min_employees, again.max_employees) in {(51, 200), (None, None)}
        assert (again.founded_after, again.founded_before) in {(2011, None), (None, None)}


def test_qualifier_gets_its_own_criterion() -> None:
    plan = infer_criteria("Series A healthcare startups in San Francisco")
    assert [c.key for c in plan.criteria] == ["industry_focus", "geography", "funding_stage", "startup"]
    assert plan.criteria[2].criterion == "The company has raised a Series A round."


def test_two_qualifiers_of_one_kind_get_unique_keys() -> None:
    plan = infer_criteria("seed-stage or Series A fintech companies")
    assert [c.key for c in plan.criteria if c.key.startswith("funding_stage")] == ["funding_stage",
                                                                                  "funding_stage_2"]


def test_reference_gets_a_similarity_criterion_not_an_industry() -> None:
    plan = infer_criteria("competitors of Stripe")
    assert [c.key for c in plan.criteria] == ["similar_to_reference"]
    assert "Stripe" in plan.criteria[0].criterion
    assert plan.constraints.topics == ()


def test_reference_with_topic_and_place() -> None:
    plan = infer_criteria("fintech competitors of Stripe in Europe")
    assert [c.key for c in plan.criteria] == ["similar_to_reference", "industry_focus", "geography"]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=600))
def test_criteria_always_valid(query: str) -> None:
    plan = infer_criteria(query)
    assert 1 <= len(plan.criteria) <= INFERRED_CRITERIA_MAX
    assert len({c.key for c in plan.criteria}) == len(plan.criteria)
    for c in plan.criteria:
        assert KEY.match(c.key)
        assert 1 <= len(c.name) <= 100
        assert 10 <= len(c.criterion) <= 500
