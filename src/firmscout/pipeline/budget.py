"""What one task may spend (pure): search requests, web pages and LLM tokens.

Each cap counts from the task's create or its latest resume (the `*_at_resume` counters), so a resume grants
the same budgets again while `usage` keeps counting everything the task spent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class Spending(Protocol):
    """What a task spent since its budgets were granted (`storage.repositories.tasks.Progress`)."""

    @property
    def searches_spent(self) -> int: ...

    @property
    def pages_spent(self) -> int: ...

    @property
    def tokens_spent(self) -> int: ...


@dataclass(frozen=True)
class Budget:
    search_requests: int
    pages_fetched: int
    # None: no LLM on this worker, so no token is ever spent and there is nothing to cap.
    total_tokens: int | None

    @classmethod
    def resolve(
        cls, *, searches: int | None, pages: int | None, tokens: int | None, defaults: Budget
    ) -> Budget:
        """A task's own caps (a create's `budget`, None where it set none) over the worker's settings."""
        return cls(
            search_requests=defaults.search_requests if searches is None else searches,
            pages_fetched=defaults.pages_fetched if pages is None else pages,
            total_tokens=None if defaults.total_tokens is None else defaults.total_tokens if tokens is None else tokens,
        )

    def searches_left(self, spent: Spending) -> int:
        return max(0, self.search_requests - spent.searches_spent)

    def pages_left(self, spent: Spending) -> int:
        return max(0, self.pages_fetched - spent.pages_spent)

    def tokens_out(self, spent: Spending, more: int = 0) -> bool:
        """Whether the LLM tokens are spent, counting `more` spent in the current step and not yet stored."""
        return self.total_tokens is not None and spent.tokens_spent + more >= self.total_tokens
