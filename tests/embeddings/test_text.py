"""The text a company's vector is made from (pure)."""

from __future__ import annotations

from firmscout.embeddings.text import company_text, text_hash


class TestCompanyText:
    def test_most_telling_fields_first(self) -> None:
        text = company_text(name="Acme", industries=("Dairy",), tags=("B2B", "Dairy"), products="Cheese",
                            description="Makes cheese.", full_description="Makes cheese. Founded by farmers.")
        assert text == "Acme. Dairy, B2B. Cheese. Makes cheese.. Makes cheese. Founded by farmers."

    def test_long_description_equal_to_short_is_not_repeated(self) -> None:
        assert company_text(name="A", description="Same words", full_description="Same words") == "A. Same words"

    def test_cut_on_a_word_boundary(self) -> None:
        text = company_text(name="A", description="alpha " * 200, max_chars=100)
        assert len(text) <= 100
        assert text.endswith("alpha")

    def test_hash_changes_with_text_only(self) -> None:
        assert text_hash("a b") == text_hash("a b")
        assert text_hash("a b") != text_hash("a c")
        assert len(text_hash("")) == 64
