"""Embedding evidence for topics in local grading (pure rule)."""

from __future__ import annotations

from firmscout.entities import CompanyProfile, Constraints, Criterion, Grade, Plan
from firmscout.pipeline.local.grader import grade_criterion, with_semantic_topic
from firmscout.pipeline.stages.plan import make_plan

ARLA = CompanyProfile(domain="arla.example", name="Arla Foods", country="Denmark",
                      description="Farmer-owned cooperative making milk, butter and cheese.")


def _plan(query: str) -> Plan:
    return make_plan(query, [])


def _criterion(plan: Plan, key: str) -> Criterion:
    return next(c for c in plan.criteria if c.key == key)


class TestWithSemanticTopic:
    def test_close_meaning_raises_a_missed_topic_to_4(self) -> None:
        plan = _plan("dairy companies")
        criterion = _criterion(plan, "industry_focus")
        missed = grade_criterion(criterion, ARLA, plan)
        assert missed.grade == 1
        raised = with_semantic_topic(criterion, ARLA, plan, missed, 0.57, 0.5, "all-MiniLM-L6-v2")
        assert raised.grade == 4
        assert "close in meaning to 'dairy'" in raised.explanation and "0.57" in raised.explanation

    def test_below_the_threshold_or_unknown_changes_nothing(self) -> None:
        plan = _plan("dairy companies")
        criterion = _criterion(plan, "industry_focus")
        missed = grade_criterion(criterion, ARLA, plan)
        assert with_semantic_topic(criterion, ARLA, plan, missed, 0.49, 0.5, "m") is missed
        assert with_semantic_topic(criterion, ARLA, plan, missed, None, 0.5, "m") is missed

    def test_never_lowers_or_touches_a_good_grade(self) -> None:
        plan = _plan("dairy companies")
        criterion = _criterion(plan, "industry_focus")
        good = Grade(5, "Industries match.")
        assert with_semantic_topic(criterion, ARLA, plan, good, 0.01, 0.5, "m") is good

    def test_criteria_without_topic_are_left_alone(self) -> None:
        plan = _plan("dairy companies in Spain")
        criterion = _criterion(plan, "geography")
        miss = grade_criterion(criterion, ARLA, plan)
        assert miss.grade < 4
        assert with_semantic_topic(criterion, ARLA, plan, miss, 0.99, 0.5, "m") is miss

    def test_a_failed_place_in_the_same_criterion_is_not_masked(self) -> None:
        plan = Plan(criteria=(Criterion("c", "Dairy in Spain", "Dairy companies based in Spain"),),
                    constraints=Constraints(), criteria_inferred=False)
        criterion = plan.criteria[0]
        miss = grade_criterion(criterion, ARLA, plan)
        assert miss.grade < 4
        assert with_semantic_topic(criterion, ARLA, plan, miss, 0.99, 0.5, "m") is miss
        in_denmark = Plan(criteria=(Criterion("c", "Dairy in Denmark", "Dairy companies based in Denmark"),),
                          constraints=Constraints(), criteria_inferred=False)
        c2 = in_denmark.criteria[0]
        before = grade_criterion(c2, ARLA, in_denmark)
        assert before.grade < 4
        assert with_semantic_topic(c2, ARLA, in_denmark, before, 0.6, 0.5, "m").grade == 4
