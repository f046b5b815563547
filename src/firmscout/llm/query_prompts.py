"""Prompt and reply-schema builders for planning a query: criteria inference and query expansion (pure)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from firmscout.entities import INFERRED_CRITERIA_MAX, Criterion

# Bounds the reply itself; the pipeline bounds again what it keeps (any `LLM` may stand behind the planner).
MAX_SEARCH_TERMS = 12
MAX_WEB_SEARCHES = 4

SYSTEM = (
    "You plan searches for a B2B company-discovery tool that searches a company database by full text and "
    "grades every candidate company 1-5 against criteria. Read the user's query and reply with JSON matching "
    "the schema.\n"
    f"- `criteria` (when asked for): 1 to {INFERRED_CRITERIA_MAX} independent, checkable statements about one company, "
    "each covering one facet the query asks for (what the company does, where it is headquartered, its size, "
    "its founding year, ...). `key` is a short snake_case identifier, `name` a 1-4 word label, `criterion` "
    "one sentence of 10-300 characters starting with \"The company\". Never add facets the query does not "
    "ask for.\n"
    "- `constraints`: only what the query states explicitly. `countries`: English country names of the "
    "headquarters asked for (expand regions such as \"Nordic\" into their countries); employee and founding-"
    "year bounds are inclusive integers, null when the query does not state them.\n"
    f"- `search_terms`: up to {MAX_SEARCH_TERMS} short phrases (1-3 words, lowercase) that a company matching the "
    "query would use in its own description or industry label: synonyms, the industry's usual names, core "
    "products. Not places, sizes or years, and not generic words such as \"company\" or \"services\".\n"
    f"- `web_searches`: up to {MAX_WEB_SEARCHES} queries for a web search engine, as a person would type them, "
    "that find such companies' own websites or pages listing them (rankings, directories, associations' "
    "member lists); use the industry's usual names and the place. Not the query itself."
)


def planning_messages(query: str, given: Sequence[Criterion] | None) -> list[dict[str, str]]:
    """`given` None: the criteria are to be inferred; otherwise the caller's criteria, shown for context
    (better search terms) and never asked back."""
    payload: dict[str, Any] = {"query": query}
    if given is not None:
        payload["criteria_given_by_the_user"] = [c.to_dict() for c in given]
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": json.dumps(payload, ensure_ascii=False, sort_keys=True)}]


def _nullable_int() -> dict[str, Any]:
    return {"type": ["integer", "null"]}


def planning_schema(infer_criteria: bool) -> dict[str, Any]:
    """The reply shape. Strict mode needs every property required, so absent bounds are nulls."""
    criterion = {
        "type": "object",
        "properties": {"key": {"type": "string"}, "name": {"type": "string"}, "criterion": {"type": "string"}},
        "required": ["key", "name", "criterion"],
        "additionalProperties": False,
    }
    constraints = {
        "type": "object",
        "properties": {
            "countries": {"type": "array", "items": {"type": "string"}},
            "min_employees": _nullable_int(),
            "max_employees": _nullable_int(),
            "founded_after": _nullable_int(),
            "founded_before": _nullable_int(),
        },
        "required": ["countries", "min_employees", "max_employees", "founded_after", "founded_before"],
        "additionalProperties": False,
    }
    properties: dict[str, Any] = {
        "constraints": constraints,
        "search_terms": {"type": "array", "items": {"type": "string"}, "maxItems": MAX_SEARCH_TERMS},
        "web_searches": {"type": "array", "items": {"type": "string"}, "maxItems": MAX_WEB_SEARCHES},
    }
    if infer_criteria:
        criteria = {"type": "array", "items": criterion, "minItems": 1, "maxItems": INFERRED_CRITERIA_MAX}
        properties = {"criteria": criteria, **properties}
    return {"type": "object", "properties": properties, "required": list(properties),
            "additionalProperties": False}
