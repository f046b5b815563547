"""The new-search form: read from the posted fields, validated by the API's own create model, errors per field.

A form field is named after the create request's field it fills (`query`, `desired_num_results`,
`criteria-0-name`, ...), so an error's `loc` from the model or the task service points at the input to mark.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from firmscout.api.schemas import CreateDiscoveryTask

_CRITERION_FIELD = re.compile(r"criteria-(\d+)-(key|name|criterion)")
# Domains to exclude may be pasted one a line, or separated by commas or spaces.
_LIST_SPLIT = re.compile(r"[\s,;]+")
# Rows a criterion editor may hold: the API's cap is 10; a few more so the error says so instead of dropping rows.
_MAX_ROWS = 20


@dataclass
class CriterionRow:
    key: str = ""
    name: str = ""
    criterion: str = ""

    def blank(self) -> bool:
        return not (self.key.strip() or self.name.strip() or self.criterion.strip())


@dataclass
class SearchForm:
    """What the user typed, kept as typed so a refused form comes back as it was."""

    query: str = ""
    desired_num_results: str = "25"
    criteria: list[CriterionRow] = field(default_factory=list)
    auto_data_sources: bool = True
    data_sources: list[str] = field(default_factory=list)
    exclude_domains: str = ""
    exclude_task_ids: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, form: FormData) -> SearchForm:
        rows: dict[int, CriterionRow] = {}
        for name, value in form.multi_items():
            if isinstance(value, str) and (m := _CRITERION_FIELD.fullmatch(name)) and int(m[1]) < _MAX_ROWS:
                setattr(rows.setdefault(int(m[1]), CriterionRow()), m[2], value)
        return cls(
            query=_text(form.get("query")),
            desired_num_results=_text(form.get("desired_num_results")).strip(),
            criteria=[rows[i] for i in sorted(rows)],
            auto_data_sources=form.get("auto_data_sources") is not None,
            data_sources=[v for v in form.getlist("data_sources") if isinstance(v, str)],
            exclude_domains=_text(form.get("exclude_domains")),
            exclude_task_ids=[v for v in form.getlist("exclude_task_ids") if isinstance(v, str)],
        )

    def payload(self) -> dict[str, Any]:
        """The create request this form stands for, as a client would post it to the API."""
        body: dict[str, Any] = {
            "query": self.query,
            "desired_num_results": int(self.desired_num_results) if self.desired_num_results.isdigit()
            else self.desired_num_results,
            "auto_data_sources": self.auto_data_sources,
            "data_sources": self.data_sources,
            "exclude_domains": [d for d in _LIST_SPLIT.split(self.exclude_domains) if d],
            "exclude_task_ids": self.exclude_task_ids,
        }
        rows = [row for row in self.criteria if not row.blank()]
        if rows:
            body["criteria"] = [
                {"key": row.key.strip() or _key_of(row.name), "name": row.name.strip(), "criterion": row.criterion}
                for row in rows
            ]
        return body

    def validate(self) -> tuple[CreateDiscoveryTask | None, dict[str, str]]:
        """The create request, or the errors by field name ("" for the form as a whole)."""
        try:
            return CreateDiscoveryTask.model_validate(self.payload()), {}
        except ValidationError as exc:
            return None, errors_by_field((tuple(e["loc"]), e["msg"]) for e in exc.errors())

    def renumbered(self) -> list[tuple[int, CriterionRow]]:
        """The editor's rows with the indexes error locations use (blank rows are not sent, so not counted)."""
        filled = [row for row in self.criteria if not row.blank()]
        blanks = [row for row in self.criteria if row.blank()]
        return list(enumerate(filled + blanks))


def errors_by_field(errors: Iterable[tuple[tuple[Any, ...], str]]) -> dict[str, str]:
    """Error messages keyed by the form field they concern: ("criteria", 0, "name") is `criteria-0-name`."""
    out: dict[str, str] = {}
    for loc, msg in errors:
        parts = [p for p in loc if p != "body"]
        if not parts:
            name = ""
        elif parts[0] == "criteria" and len(parts) >= 3:
            name = f"criteria-{parts[1]}-{parts[2]}"
        elif parts[0] == "criteria" and len(parts) == 2 and isinstance(parts[1], int):
            name = f"criteria-{parts[1]}-name"
        else:
            name = str(parts[0])
        out.setdefault(name, _plain(msg))
    return out


def _plain(msg: str) -> str:
    # pydantic's "Value error, ..." prefix says nothing to a person reading the form.
    return msg.removeprefix("Value error, ")


def _key_of(name: str) -> str:
    """A criterion key from its name when the editor left the key blank: "Sells to banks" → sells_to_banks."""
    key = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:40] or "criterion"
    return key if key[0].isalpha() else f"c_{key}"


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""
