"""The web app's Jinja2 templates, loaded from the package: HTML escaped by default, unknown names an error."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("firmscout.api.ui", "templates"),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    return env


def render(name: str, **context: Any) -> str:
    return _environment().get_template(name).render(**context)
