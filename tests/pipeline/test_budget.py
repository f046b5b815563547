"""A task's budgets (pure): its own caps over the settings, counted from its latest resume."""

from __future__ import annotations

from firmscout.pipeline.budget import Budget
from firmscout.storage.repositories.tasks import Progress

SETTINGS = Budget(search_requests=30, pages_fetched=400, total_tokens=2_000_000)


def _spent(**counters: int) -> Progress:
    return Progress("in_progress", 10, 0, 0, False, **counters)


class TestBudget:
    def test_a_tasks_own_caps_replace_the_settings_where_it_set_them(self) -> None:
        own = Budget.resolve(searches=5, pages=None, tokens=0, defaults=SETTINGS)
        assert own == Budget(search_requests=5, pages_fetched=400, total_tokens=0)

    def test_without_an_llm_no_token_budget_applies(self) -> None:
        no_llm = Budget(30, 400, None)
        own = Budget.resolve(searches=None, pages=None, tokens=0, defaults=no_llm)
        assert own.total_tokens is None and not own.tokens_out(_spent(total_tokens=10**9))

    def test_spending_counts_from_the_latest_resume(self) -> None:
        resumed = _spent(search_requests=40, search_requests_at_resume=30, pages_fetched=450,
                         pages_fetched_at_resume=400, total_tokens=2_500_000, tokens_at_resume=2_000_000)
        assert (SETTINGS.searches_left(resumed), SETTINGS.pages_left(resumed)) == (20, 350)
        assert not SETTINGS.tokens_out(resumed)
        assert SETTINGS.tokens_out(resumed, more=1_500_000), "tokens of the step under way count too"

    def test_nothing_left_is_never_negative(self) -> None:
        over = _spent(search_requests=35, pages_fetched=410)
        assert (SETTINGS.searches_left(over), SETTINGS.pages_left(over)) == (0, 0)
