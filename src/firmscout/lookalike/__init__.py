"""Instant company search and lookalikes over the company database, shared by the API's instant endpoints
and Deep Search's relationship queries ("competitors of X")."""

from firmscout.lookalike.filters import Filters, passes
from firmscout.lookalike.service import Match, find_company, find_reference, search, similar_to

__all__ = ["Filters", "Match", "find_company", "find_reference", "passes", "search", "similar_to"]
