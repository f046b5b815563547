"""The provider client's pure helpers: how long a rate-limited provider asks us to wait, and query cutting."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest

from firmscout.sources.search.http import cut_query, retry_after_s


class TestRetryAfter:
    def test_seconds(self) -> None:
        assert retry_after_s(httpx.Headers({"Retry-After": "3"})) == 3.0

    def test_an_http_date_is_the_time_until_then(self) -> None:
        when = email.utils.formatdate(time.time() + 30, usegmt=True)
        wait = retry_after_s(httpx.Headers({"Retry-After": when}))
        assert wait is not None and 28 <= wait <= 30

    def test_a_date_in_the_past_means_now(self) -> None:
        assert retry_after_s(httpx.Headers({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0.0

    @pytest.mark.parametrize("value", ["soon", "-1", "1.5"])
    def test_anything_else_is_no_answer(self, value: str) -> None:
        assert retry_after_s(httpx.Headers({"Retry-After": value})) is None

    def test_no_headers_no_answer(self) -> None:
        assert retry_after_s(httpx.Headers()) is None

    def test_brave_exhausted_second_window(self) -> None:
        headers = httpx.Headers({"X-RateLimit-Remaining": "0, 14000", "X-RateLimit-Reset": "1, 1419704"})
        assert retry_after_s(headers) == 1.0

    def test_brave_exhausted_month_waits_for_the_month(self) -> None:
        headers = httpx.Headers({"X-RateLimit-Remaining": "0, 0", "X-RateLimit-Reset": "1, 1419704"})
        assert retry_after_s(headers) == 1419704.0

    def test_brave_windows_with_requests_left_ask_no_wait(self) -> None:
        headers = httpx.Headers({"X-RateLimit-Remaining": "3, 14000", "X-RateLimit-Reset": "1, 1419704"})
        assert retry_after_s(headers) is None

    def test_retry_after_wins_over_the_rate_limit_windows(self) -> None:
        headers = httpx.Headers({"Retry-After": "2", "X-RateLimit-Remaining": "0, 0",
                                 "X-RateLimit-Reset": "1, 1419704"})
        assert retry_after_s(headers) == 2.0


class TestCutQuery:
    def test_a_short_query_is_left_alone(self) -> None:
        assert cut_query("robots in berlin", 400) == "robots in berlin"
        assert cut_query("x" * 900, None) == "x" * 900

    def test_a_long_query_is_cut_at_the_last_whole_word(self) -> None:
        assert cut_query("welding robots berlin", 17) == "welding robots"

    def test_one_long_word_is_cut_where_it_must(self) -> None:
        assert cut_query("x" * 20, 8) == "x" * 8
