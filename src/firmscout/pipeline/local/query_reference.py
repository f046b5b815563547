"""The company a relationship query is about: "Stripe" in "competitors of Stripe" or "Stripe lookalikes"."""

from __future__ import annotations

import re

from firmscout.pipeline.local.query_facets import overlaps
from firmscout.pipeline.local.vocabulary import fold

# "competitors of Stripe", "alternatives to notion.so", "companies like Airbnb", "Stripe competitors".
_REF_STOP = (r"(?:in|from|based|with|that|which|who|founded|established|for|and|or|near|outside|across|headquartered|"
             r"located|but|having|of|to|within|operating|serving|over|under|than|since|before|after)")
_REF_NAME = rf"(?P<ref>[\w.&'-]*\w(?:\s+(?!{_REF_STOP}\b)[\w.&'-]*\w){{0,3}})"
_RELATION = r"(?:competitors?|competition|alternatives?|rivals?|peers?|look[- ]?alikes?|clones?|equivalents?)"
_REFERENCE_PATTERNS = (
    re.compile(rf"\b{_RELATION}\s+(?:of|to|for)\s+{_REF_NAME}", re.I),
    re.compile(rf"\b(?:(?:very\s+)?similar\s+to|comparable\s+to|like|such\s+as|in\s+the\s+mold\s+of)\s+{_REF_NAME}",
               re.I),
    re.compile(rf"(?P<ref>\b[A-Z0-9][\w.&'-]*(?:\s+[A-Z0-9][\w.&'-]*){{0,2}}|\b[\w-]+\.[a-z]{{2,}})(?:'s)?\s+"
               rf"{_RELATION}\b"),
    re.compile(rf"^\s*(?P<ref>[\w.&'-]+)(?:'s)?\s+{_RELATION}\b", re.I),
)
_NOT_REFERENCES = frozenset({"us", "we", "me", "mine", "ours", "them", "this", "these", "those", "that", "it", "the",
                             "a", "an", "other", "others", "its", "our", "their"})


def read_reference(text: str, taken: list[tuple[int, int]]) -> str | None:
    for pattern in _REFERENCE_PATTERNS:
        for match in pattern.finditer(text):
            name = match.group("ref").strip(" .,'-")
            if not name or fold(name.split()[0]) in _NOT_REFERENCES or overlaps(match.span(), taken):
                continue
            taken.append(match.span())
            return name
    return None


