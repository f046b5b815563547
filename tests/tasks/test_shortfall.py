"""Why a task has no or few results, as `search` and `explain --task` print it."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from firmscout.entities import Criterion
from firmscout.pipeline.local import infer_criteria, plan_for_criteria
from firmscout.storage.views import TaskView
from firmscout.tasks.shortfall import removal_summary, shortfall

PLAN = infer_criteria("fintech series A companies in Spain")


def _task(**fields: Any) -> TaskView:
    base = TaskView(
        id="t", created_at=datetime.now(UTC), status="done", query="q", desired_num_results=10, is_exhausted=True,
        num_results_discovered=6, num_results_enriched=6, num_results_evaluated=6, num_results=0, table_id=None,
        auto_data_sources=True, data_sources=["extruct_db"], criteria=[c.to_dict() for c in PLAN.criteria],
        exclude_domains=[], stop_reason="exhausted", error=None, prompt_tokens=0, completion_tokens=0,
        pages_fetched=0, web_bytes=0, search_requests=0,
        candidates_removed={"considered": 6, "by_criterion": {"geography": 2, "industry_focus": 6}, "duplicates": 0},
    )
    return dataclasses.replace(base, **fields)


class TestRemovalSummary:
    def test_names_each_criterion_with_its_wording_most_removals_first(self) -> None:
        line = removal_summary(_task(), PLAN)
        assert line.startswith("0 of 6 candidates became results: 6 failed 'industry_focus' (The company's industry")
        assert line.index("6 failed 'industry_focus'") < line.index("2 failed 'geography' (Headquartered in Spain)")

    def test_long_wording_is_cut_short(self) -> None:
        wording = "The company has raised a Series A round from institutional investors."
        long = Criterion("series_a", "Series A", wording)
        plan = plan_for_criteria("fintech", [long])
        line = removal_summary(_task(candidates_removed={"considered": 6, "by_criterion": {"series_a": 6}}), plan)
        assert line == ("0 of 6 candidates became results: 6 failed 'series_a' (The company has raised a Series A "
                        "round from institutional…).")

    def test_duplicates_and_candidates_not_graded_yet_are_said(self) -> None:
        removed = {"considered": 4, "by_criterion": {"geography": 1}, "duplicates": 1}
        line = removal_summary(_task(num_results=2, candidates_removed=removed), PLAN)
        assert line == ("2 of 4 candidates became results: 1 failed 'geography' (Headquartered in Spain), "
                        "1 was a duplicate of another candidate's website (2 more candidates not graded yet).")

    def test_with_no_candidate_at_all_it_names_the_search_terms_and_filters(self) -> None:
        line = removal_summary(_task(num_results_discovered=0, candidates_removed={}), PLAN)
        assert line.startswith("No candidates found: no company matched the search terms ")
        assert all(f"'{term}'" in line for term in PLAN.search_terms)
        assert line.endswith("(in Spain).")

    def test_a_task_from_before_the_tally_says_so(self) -> None:
        line = removal_summary(_task(candidates_removed=None), PLAN)
        assert line.startswith("0 of 6 candidates became results (the task ran before")


class TestShortfall:
    def test_only_when_fewer_results_than_asked(self) -> None:
        assert shortfall(_task(num_results=10), PLAN) is None
        assert shortfall(_task(num_results=3), PLAN) is not None
