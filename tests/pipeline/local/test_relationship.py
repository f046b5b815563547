"""A relationship query's criterion, once its reference company is found."""

from __future__ import annotations

from firmscout.entities import CompanyProfile
from firmscout.pipeline.local import grade_company, infer_criteria
from firmscout.pipeline.local.relationship import reference_topics, with_reference

STRIPE = CompanyProfile(domain="stripe.com", name="Stripe", description="Online payment processing for internet "
                        "businesses.", tags=("fintech", "payments", "b2b", "saas"), products="payment APIs; billing")
ADYEN = CompanyProfile(domain="adyen.com", name="Adyen", description="Payment platform for merchants.",
                       tags=("payments",), sources=("https://adyen.com",))
TOAST = CompanyProfile(domain="toasttab.com", name="Toast", description="Restaurant point-of-sale software.",
                       tags=("restaurant-tech",))


def test_topics_are_the_reference_specific_labels_then_its_first_product() -> None:
    assert reference_topics(STRIPE) == ("fintech", "payments", "payment apis")


def test_the_criterion_names_the_reference_and_what_it_does() -> None:
    plan = with_reference(infer_criteria("competitors of Stripe"), STRIPE)
    text = next(c.criterion for c in plan.criteria if c.key == "similar_to_reference")
    assert "stripe.com" in text and "payment processing" in text
    assert plan.reference == STRIPE


def test_a_company_sharing_a_label_is_like_it() -> None:
    plan = with_reference(infer_criteria("competitors of Stripe"), STRIPE)
    grade = grade_company(plan.criteria, ADYEN, plan)["similar_to_reference"]
    assert grade.grade == 5
    assert grade.explanation.startswith("Like Stripe:")


def test_a_company_with_another_product_is_not() -> None:
    plan = with_reference(infer_criteria("competitors of Stripe"), STRIPE)
    assert grade_company(plan.criteria, TOAST, plan)["similar_to_reference"].grade == 1


def test_the_reference_is_never_its_own_lookalike() -> None:
    plan = with_reference(infer_criteria("competitors of Stripe"), STRIPE)
    grade = grade_company(plan.criteria, STRIPE, plan)["similar_to_reference"]
    assert grade.grade == 1 and "itself" in grade.explanation


def test_the_plan_keeps_its_reference_through_storage() -> None:
    plan = with_reference(infer_criteria("competitors of Stripe"), STRIPE)
    assert type(plan).from_dict(plan.to_dict()).reference == STRIPE
