"""Why a task has no or few results, in one readable line for `search` and `explain --task` (pure)."""

from __future__ import annotations

from firmscout.entities import Constraints, Plan
from firmscout.storage.removals import Removals
from firmscout.storage.views import TaskView

# Characters of a criterion's wording quoted after its key.
_QUOTE_CHARS = 60


def _quote(text: str) -> str:
    text = " ".join(text.split()).rstrip(".")
    return text if len(text) <= _QUOTE_CHARS else text[: _QUOTE_CHARS - 1].rstrip() + "…"


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _filters(c: Constraints) -> list[str]:
    """The constraints a source applies while searching, in words."""
    parts: list[str] = []
    places = [*c.cities, *c.states, *c.countries]
    if places:
        parts.append("in " + " or ".join(places))
    if c.min_employees is not None and c.max_employees is not None:
        parts.append(f"{c.min_employees:,}-{c.max_employees:,} employees")
    elif c.min_employees is not None:
        parts.append(f"at least {c.min_employees:,} employees")
    elif c.max_employees is not None:
        parts.append(f"at most {c.max_employees:,} employees")
    if c.founded_after is not None and c.founded_before is not None:
        parts.append(f"founded {c.founded_after}-{c.founded_before}")
    elif c.founded_after is not None:
        parts.append(f"founded {c.founded_after} or later")
    elif c.founded_before is not None:
        parts.append(f"founded {c.founded_before} or earlier")
    return parts


def nothing_found(plan: Plan) -> str:
    """No source returned a single candidate: every search term found nothing (sources search them all at once)."""
    terms = ", ".join(f"'{t}'" for t in plan.all_search_terms)
    filters = _filters(plan.constraints)
    where = f" ({'; '.join(filters)})" if filters else ""
    if terms:
        return f"No candidates found: no company matched the search terms {terms}{where}."
    return f"No candidates found: no company matched the filters{where}."


def removal_summary(task: TaskView, plan: Plan) -> str:
    """E.g. "0 of 6 candidates became results: 6 failed 'industry_focus' (The company's industry or main
    products match 'series'), 2 failed 'geography' (Headquartered in Spain.)"."""
    if task.num_results_discovered == 0:
        return nothing_found(plan)
    if task.candidates_removed is None:
        return (f"{task.num_results} of {_plural(task.num_results_discovered, 'candidate', 'candidates')} became "
                "results (the task ran before Firmscout recorded why candidates were removed).")
    removed = Removals.from_dict(task.candidates_removed)
    head = f"{task.num_results} of {_plural(removed.considered, 'candidate', 'candidates')} became results"
    wording = {c.key: c.criterion for c in plan.criteria}
    order = list(wording)
    # Most removals first; equal counts in the criteria's own order.
    failed = sorted(removed.by_criterion.items(),
                    key=lambda kv: (-kv[1], order.index(kv[0]) if kv[0] in order else len(order), kv[0]))
    parts = [
        f"{n} failed '{key}'" + (f" ({_quote(wording[key])})" if key in wording else "") for key, n in failed
    ]
    if removed.duplicates:
        dupes = _plural(removed.duplicates, "was a duplicate", "were duplicates")
        parts.append(f"{dupes} of another candidate's website")
    pending = task.num_results_discovered - removed.considered
    if parts:
        line = f"{head}: {', '.join(parts)}"
    else:
        line = head + ("; the sources found no others" if task.is_exhausted and pending <= 0 else "")
    if pending > 0:
        line += f" ({_plural(pending, 'more candidate', 'more candidates')} not graded yet)"
    return line + "."


def shortfall(task: TaskView, plan: Plan) -> str | None:
    """`removal_summary` when the task ended with fewer results than asked for; None when it has them all."""
    if task.num_results >= task.desired_num_results:
        return None
    return removal_summary(task, plan)
