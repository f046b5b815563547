"""Plan: the criteria to grade and the search to run, from the user's criteria or inferred from the query."""

from __future__ import annotations

from typing import Any

from firmscout.entities import Criterion, Plan
from firmscout.pipeline.local.criteria import infer_criteria, plan_for_criteria


def make_plan(query: str, user_criteria: list[dict[str, Any]]) -> Plan:
    if user_criteria:
        return plan_for_criteria(query, [Criterion(**c) for c in user_criteria])
    return infer_criteria(query)
