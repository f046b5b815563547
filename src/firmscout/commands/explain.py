"""`explain`: show how a query is understood, through the same plan stage a task runs."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from firmscout.pipeline.local.query_parser import parse_query
from firmscout.pipeline.stages.plan import make_plan


def explain(query: str) -> dict[str, Any]:
    plan = make_plan(query, [])
    parsed = parse_query(query)
    return {
        "query": query,
        "criteria": [c.to_dict() for c in plan.criteria],
        "constraints": {k: v for k, v in plan.constraints.to_dict().items() if v not in (None, [], ())},
        "search_terms": list(plan.search_terms),
        "focus": parsed.focus,
        "places": list(parsed.places),
    }


def print_explanation(parse: dict[str, Any]) -> None:
    out = Console(soft_wrap=True)
    out.print(f"Query: {parse['query']}", highlight=False)
    out.print(f"Focus: {parse['focus'] or '—'}   Places: {', '.join(parse['places']) or '—'}", highlight=False)
    table = Table(title="Criteria (each graded 1–5)")
    for column in ("key", "name", "criterion"):
        table.add_column(column, overflow="fold")
    for c in parse["criteria"]:
        table.add_row(c["key"], c["name"], c["criterion"])
    out.print(table)
    constraints = Table(title="Structured constraints")
    constraints.add_column("constraint")
    constraints.add_column("value", overflow="fold")
    for key, value in parse["constraints"].items():
        constraints.add_row(key, ", ".join(map(str, value)) if isinstance(value, list) else str(value))
    out.print(constraints)
    out.print(f"Full-text search terms: {', '.join(parse['search_terms']) or '—'}", highlight=False)
