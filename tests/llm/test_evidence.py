"""Checking what an LLM grade rests on: passage numbers to URLs, quotes against the company's text (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from firmscout.entities import CompanyProfile, Passage
from firmscout.llm.evidence import checked_grade, found_in, normalise, numbered_passages

HOME, ABOUT = "https://acme.example/", "https://acme.example/about"
PROFILE = CompanyProfile(
    domain="acme.example", name="Acme Bank", country="Spain", industries=("Banking",), founded_year=1901,
    sources=("https://registry.example/acme", HOME, ABOUT),
    passages=(Passage(HOME, "Acme Bank  serves\nsmall businesses across Spain."),
              Passage(ABOUT, "Founded in Madrid, we're the “neighbourhood” bank — since 1901.")),
)


def _score(**overrides: Any) -> dict[str, Any]:
    return {"passages": [], "quote": "", "sources": [], "explanation": "Why.", "grade": 5} | overrides


class TestNormalise:
    def test_whitespace_case_and_typographic_quotes_and_dashes(self) -> None:
        assert normalise("  We’re the “Neighbourhood”\n\tBank — since…") == 'we\'re the "neighbourhood" bank - since...'


class TestQuotes:
    @pytest.mark.parametrize("quote", [
        "serves small businesses across Spain",
        "SERVES SMALL   BUSINESSES",
        '"we\'re the "neighbourhood" bank"',
        "we’re the “neighbourhood” bank - since 1901.",
        "Founded in Madrid ... since 1901",
        "Founded in Madrid… since 1901",
    ])
    def test_found_despite_spacing_case_quotes_and_ellipses(self, quote: str) -> None:
        assert found_in(quote, [p.text for p in PROFILE.passages])

    @pytest.mark.parametrize("quote", ["the largest bank in Spain", "", "  ...  ", "Founded in Madrid ... in 1850"])
    def test_not_found(self, quote: str) -> None:
        assert not found_in(quote, [p.text for p in PROFILE.passages])


class TestCheckedGrade:
    def test_passages_are_numbered_without_urls(self) -> None:
        assert numbered_passages(PROFILE) == [{"number": 1, "text": PROFILE.passages[0].text},
                                              {"number": 2, "text": PROFILE.passages[1].text}]

    def test_cited_passage_numbers_become_their_urls(self) -> None:
        grade = checked_grade(PROFILE, 5, "Why.", _score(passages=[2], quote="since 1901"))
        assert (grade.grade, grade.explanation, grade.sources) == (5, "Why.", (ABOUT,))

    def test_cited_fields_add_the_profile_sources_after_the_passages(self) -> None:
        grade = checked_grade(PROFILE, 4, "Why.", _score(passages=[2], quote="Spain", sources=["country"]))
        assert grade.sources == (ABOUT, "https://registry.example/acme", HOME)

    def test_numbers_beyond_the_companys_passages_are_dropped(self) -> None:
        grade = checked_grade(PROFILE, 5, "Why.", _score(passages=[3, 0, True, "1"], quote="small businesses"))
        assert grade.grade == 5 and grade.sources == (HOME,), "falls back to the page the quote is on"

    def test_a_quote_from_a_profile_field_counts(self) -> None:
        grade = checked_grade(PROFILE, 5, "Why.", _score(quote="banking", sources=["industries"]))
        assert grade.grade == 5 and grade.sources == PROFILE.sources

    def test_an_invented_quote_caps_the_grade_at_3_and_says_so(self) -> None:
        grade = checked_grade(PROFILE, 5, "It is Spain's largest bank.",
                              _score(passages=[1], quote="the largest bank in Spain"))
        assert grade.grade == 3
        assert grade.explanation == ("It is Spain's largest bank. "
                                     "(quote not found in the company's pages; capped at 3)")
        assert grade.sources == (HOME,)

    def test_a_high_grade_without_a_quote_is_capped_too(self) -> None:
        grade = checked_grade(PROFILE, 4, "Why.", _score())
        assert (grade.grade, grade.explanation) == (3, "Why. (no quote from the company's pages; capped at 3)")
        assert grade.sources == PROFILE.sources

    def test_a_low_grade_keeps_its_number_but_an_invented_quote_is_flagged(self) -> None:
        assert checked_grade(PROFILE, 2, "Nothing says so.", _score()).explanation == "Nothing says so."
        flagged = checked_grade(PROFILE, 1, "No.", _score(quote="we only serve Portugal"))
        assert (flagged.grade, flagged.explanation) == (1, "No. (quote not found in the company's pages)")

    def test_a_profile_without_passages_or_sources_grades_without_sources(self) -> None:
        bare = CompanyProfile(domain="bare.example", name="Bare")
        assert checked_grade(bare, 5, "Why.", _score(quote="Bare", sources=["name"])).sources == ()
