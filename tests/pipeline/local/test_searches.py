"""The web searches a plan holds: the query as typed, the topic with its place, list and directory pages."""

from __future__ import annotations

from firmscout.entities import Plan
from firmscout.pipeline.local.criteria import infer_criteria
from firmscout.pipeline.local.searches import MAX_SEARCHES


def test_a_topic_and_place_ask_for_companies_lists_and_directories() -> None:
    assert infer_criteria("semiconductor equipment makers in Japan").web_searches == (
        "semiconductor equipment makers in Japan",
        "semiconductor equipment companies in Japan",
        "list of semiconductor equipment companies in Japan",
        "top semiconductor equipment companies in Japan",
        "semiconductor equipment companies directory in Japan",
    )


def test_a_topic_holding_a_company_noun_gets_no_second_one() -> None:
    searches = infer_criteria("vertical SaaS companies serving freight forwarding").web_searches
    assert "list of vertical SaaS companies serving freight forwarding" in searches
    assert not any(s.endswith("forwarding companies") for s in searches)


def test_a_relationship_query_asks_for_competitors_and_alternatives() -> None:
    searches = infer_criteria("competitors of Stripe").web_searches
    assert searches[1:] == ("Stripe competitors", "Stripe alternatives", "companies like Stripe")


def test_searches_are_few_deterministic_and_kept_in_the_stored_plan() -> None:
    plan = infer_criteria("fintech startups in London")
    assert 1 <= len(plan.web_searches) <= MAX_SEARCHES
    assert infer_criteria("fintech startups in London").web_searches == plan.web_searches
    assert Plan.from_dict(plan.to_dict()).web_searches == plan.web_searches
    stored_before = {k: v for k, v in plan.to_dict().items() if k != "web_searches"}
    assert Plan.from_dict(stored_before).web_searches == ()
