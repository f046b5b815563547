"""The web_search source's pure parts; the source end to end is in tests/web/test_web_search.py."""

from __future__ import annotations

import pytest

from firmscout.errors import SourceError
from firmscout.sources.web_search import Position


def test_the_cursor_is_search_and_page() -> None:
    assert Position.parse(None) == Position(0, 0)
    assert str(Position.parse("2:1")) == "2:1"
    with pytest.raises(SourceError, match="expected SEARCH:PAGE"):
        Position.parse("next")


def test_a_page_that_brings_nothing_new_skips_to_the_next_search() -> None:
    assert Position(1, 0).next_search(searches=4) == "2:0"
    assert Position(1, 2).next_search(searches=4) == "2:0"
    # Past the last search the source has nothing more: a cursor it answers with an empty, final page.
    assert Position(3, 1).next_search(searches=4) == "4:0"
