"""Prompt and reply-schema builders for grading (pure)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from firmscout.entities import CompanyProfile, Criterion

SYSTEM = (
    "You grade companies against criteria for a B2B company-discovery tool. Use only the profile given; "
    "never invent facts. For every company and every criterion give a grade from 1 to 5 "
    "(5 = clearly meets it, 4 = very likely, 3 = unclear or partial, 2 = unlikely, 1 = clearly does not) and a "
    "one- or two-sentence explanation that quotes the profile evidence it rests on, and list the source URLs "
    "from the profile's `sources` that support it. Reply with JSON matching the schema."
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


def grading_schema(criteria: Sequence[Criterion]) -> dict[str, Any]:
    score = {
        "type": "object",
        "properties": {
            "grade": {"type": "integer", "minimum": 1, "maximum": 5},
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
                "items": {
                    "type": "object",
                    "properties": {
                        "domain": {"type": "string"},
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
