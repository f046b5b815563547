"""Spec decision 4: the registered domain is eTLD+1 from the bundled Public Suffix List, lower-cased, IDNA."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from firmscout.domains import registered_domain

LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)
SUFFIX = st.sampled_from(["com", "co.uk", "de", "com.au", "io", "org", "co.jp", "es"])


class TestExamples:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("https://www.Acme.com/about", "acme.com"),
            ("blog.acme.co.uk", "acme.co.uk"),
            ("https://blog.stripe.com/pricing", "stripe.com"),
            ("stripe.com", "stripe.com"),
            ("STRIPE.COM.", "stripe.com"),
            ("http://user:pw@shop.example.de:8443/path?q=1#frag", "example.de"),
            ("münchen.de", "xn--mnchen-3ya.de"),
            ("https://xn--mnchen-3ya.de/", "xn--mnchen-3ya.de"),
            ("x.github.io", "github.io"),  # private PSL section is off: github.io itself is the company
        ],
    )
    def test_normalises(self, value: str, expected: str) -> None:
        assert registered_domain(value) == expected

    @pytest.mark.parametrize(
        "junk", ["", "   ", "localhost", "not a domain", "1.2.3.4", "[::1]", "http://[::1]/", "com", "co.uk",
                 "http://", "a..b.com", "-acme.com", "acme-.com", "exa mple.com", "http://acme.notarealtld"],
    )
    def test_rejects_junk(self, junk: str) -> None:
        assert registered_domain(junk) is None


class TestProperties:
    @given(st.text())
    def test_never_raises_on_any_text(self, value: str) -> None:
        result = registered_domain(value)
        assert result is None or (result.isascii() and result == result.lower() and "." in result)

    @given(st.text())
    def test_idempotent(self, value: str) -> None:
        result = registered_domain(value)
        if result is not None:
            assert registered_domain(result) == result

    @given(LABEL, SUFFIX, st.lists(LABEL, max_size=3), st.sampled_from(["", "http://", "https://", "HTTPS://"]),
           st.sampled_from(["", ":8080", ":443"]), st.sampled_from(["", "/", "/about?x=1", "#top"]))
    def test_decorations_do_not_change_the_registered_domain(
        self, name: str, suffix: str, subdomains: list[str], scheme: str, port: str, path: str
    ) -> None:
        expected = f"{name}.{suffix}"
        assume(registered_domain(expected) == expected)  # e.g. "com.es" is itself a public suffix
        host = ".".join([*subdomains, expected])
        assert registered_domain(f"{scheme}{host.upper()}{port}{path}") == expected
