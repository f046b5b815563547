"""Prompt and reply-schema builders for grading (pure)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from firmscout.entities import CompanyProfile, Criterion

SYSTEM = (
    "You grade companies against criteria for a B2B company-discovery tool. Use only the profiles given; "
    "never invent facts. For every company and every criterion (by its `key`) give a grade from 1 to 5 "
    "(5 = clearly meets it, 4 = very likely, 3 = unclear or partial, 2 = unlikely, 1 = clearly does not). "
    "The explanation is one or two sentences that quote, in double quotes, the profile text or field value "
    "it rests on; when the profile says nothing relevant, grade 3 or lower and say that. `sources` lists the "
    "URLs from that company's `sources` that support the grade. Reply with JSON matching the schema."
)
_PROFILE_FIELDS = ("name", "description", "full_description", "country", "state", "city", "industries", "tags",
                   "products", "founded_year", "employees", "status", "sources")


def _compact(profile: CompanyProfile) -> dict[str, Any]:
    data = profile.to_dict()
    out: dict[str, Any] = {"domain": profile.domain}
    for key in _PROFILE_FIELDS:
        value = data.get(key)
        if value not in (None, "", [], ()):
            out[key] = value[:1500] if isinstance(value, str) else value
    return out


def grading_messages(criteria: Sequence[Criterion], profiles: Sequence[CompanyProfile]) -> list[dict[str, str]]:
    payload = {
        "criteria": [c.to_dict() for c in criteria],
        "companies": [_compact(p) for p in profiles],
    }
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": json.dumps(payload, ensure_ascii=False, sort_keys=True)}]


def grading_schema(criteria: Sequence[Criterion], profiles: Sequence[CompanyProfile]) -> dict[str, Any]:
    """The reply shape for one batch: exactly one row per company (domains as an enum), a grade for every
    criterion. Only keywords OpenAI's strict mode accepts; `llm.schema` checks replies against it."""
    score = {
        "type": "object",
        "properties": {
            # An enum rather than minimum/maximum: more OpenAI-compatible servers enforce enums.
            "grade": {"type": "integer", "enum": [1, 2, 3, 4, 5]},
            "explanation": {"type": "string"},
            "sources": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["grade", "explanation", "sources"],
        "additionalProperties": False,
    }
    keys = [c.key for c in criteria]
    return {
        "type": "object",
        "properties": {
            "companies": {
                "type": "array",
                "minItems": len(profiles),
                "maxItems": len(profiles),
                "items": {
                    "type": "object",
                    "properties": {
                        "domain": {"type": "string", "enum": [p.domain for p in profiles]},
                        "scores": {"type": "object", "properties": {k: score for k in keys}, "required": keys,
                                   "additionalProperties": False},
                    },
                    "required": ["domain", "scores"],
                    "additionalProperties": False,
                },
            }
        },
        "required": ["companies"],
        "additionalProperties": False,
    }


def missing_companies_messages(
    messages: list[dict[str, str]], reply: dict[str, Any], missing: Sequence[str]
) -> list[dict[str, str]]:
    """A follow-up turn for a reply that skipped (or repeated) companies: ask for all of them again."""
    return [*messages, {"role": "assistant", "content": json.dumps(reply, ensure_ascii=False)},
            {"role": "user", "content": "Grade every company exactly once. Missing: " + ", ".join(missing)
             + ". Reply with the complete JSON for all companies."}]
