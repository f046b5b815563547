"""The local query parser reads place, topic, size and founding year from plain English."""

from hypothesis import given, settings
from hypothesis import strategies as st

from firmscout.pipeline.local import parse_query

NORDICS = {"Sweden", "Norway", "Denmark", "Finland", "Iceland"}


class TestGeography:
    def test_country_name(self) -> None:
        c = parse_query("banks in Spain").constraints
        assert c.countries == ("Spain",)
        assert c.topics == ("bank",)

    def test_demonym(self) -> None:
        c = parse_query("Japanese carmakers").constraints
        assert c.countries == ("Japan",)
        assert c.topics == ("carmaker",)

    def test_region_expands_to_countries(self) -> None:
        c = parse_query("Nordic banks founded before 1900").constraints
        assert set(c.countries) == NORDICS
        assert c.topics == ("bank",)
        assert c.founded_before == 1899
        assert c.founded_after is None

    def test_europe_and_dach(self) -> None:
        assert {"Germany", "United Kingdom", "Spain"} <= set(parse_query("European insurers").constraints.countries)
        assert set(parse_query("DACH software").constraints.countries) == {"Germany", "Austria", "Switzerland"}

    def test_us_state_implies_country(self) -> None:
        c = parse_query("oil companies in Texas").constraints
        assert c.states == ("Texas",)
        assert c.countries == ("United States",)

    def test_lowercase_us_is_a_pronoun(self) -> None:
        assert parse_query("companies like us").constraints.countries == ()
        assert parse_query("fintech in the US").constraints.countries == ("United States",)

    def test_ai_is_not_anguilla(self) -> None:
        assert parse_query("AI startups").constraints.countries == ()


class TestTopics:
    def test_focus_words_without_geography_or_size(self) -> None:
        parsed = parse_query("B2B payments companies in Brazil")
        assert parsed.constraints.countries == ("Brazil",)
        assert parsed.constraints.topics == ("b2b", "payment")
        assert parsed.focus == "B2B payments"

    def test_phrases_stay_whole(self) -> None:
        parsed = parse_query("AI agents for customer support founded since 2022")
        assert "customer support" in parsed.constraints.topics
        assert parsed.constraints.founded_after == 2022
        assert parsed.constraints.founded_before is None

    def test_search_terms_carry_synonyms(self) -> None:
        terms = parse_query("Japanese carmakers").search_terms
        assert terms[0] == "carmaker"
        assert "automotive" in terms
        assert "carmakers" in terms

    def test_chemicals(self) -> None:
        c = parse_query("chemical companies in Germany").constraints
        assert c.countries == ("Germany",)
        assert c.topics == ("chemical",)


class TestSize:
    def test_over(self) -> None:
        c = parse_query("European logistics companies with over 10,000 employees").constraints
        assert c.min_employees == 10001
        assert c.max_employees is None
        assert c.topics == ("logistics",)
        assert "Germany" in c.countries

    def test_fewer_than(self) -> None:
        c = parse_query("open-source observability tools with fewer than 20 people").constraints
        assert c.max_employees == 19
        assert c.topics == ("open source", "observability")

    def test_bucket_label(self) -> None:
        c = parse_query("insurers with 51-200 employees").constraints
        assert (c.min_employees, c.max_employees) == (51, 200)

    def test_adjectives(self) -> None:
        assert parse_query("small banks").constraints.max_employees == 50
        assert parse_query("large banks").constraints.min_employees == 1001
        assert parse_query("mid-sized banks").constraints.min_employees == 51

    def test_customer_size_and_llms_are_not_company_size(self) -> None:
        assert parse_query("software for small businesses").constraints.max_employees is None
        assert parse_query("large language model labs").constraints.min_employees is None


class TestFoundingYear:
    def test_decade(self) -> None:
        c = parse_query("banks founded in the 1990s").constraints
        assert (c.founded_after, c.founded_before) == (1990, 1999)

    def test_exact_and_after(self) -> None:
        c = parse_query("startups established in 2001").constraints
        assert (c.founded_after, c.founded_before) == (2001, 2001)
        assert parse_query("fintechs founded after 2010").constraints.founded_after == 2011


@settings(max_examples=200)
@given(st.text(max_size=200))
def test_parse_never_raises(text: str) -> None:
    parsed = parse_query(text)
    assert isinstance(parsed.search_terms, tuple)


class TestNarrowSynonyms:
    """A narrower term is found by its broader row, but asking for it does not widen to that row."""

    def test_bank_finds_neobanks_but_neobank_does_not_find_all_lenders(self) -> None:
        from firmscout.pipeline.local.vocabulary import synonyms

        assert "neobank" in synonyms("bank")
        assert "lender" not in synonyms("neobank") and "bank" not in synonyms("neobank")
        assert "real estate" not in synonyms("reit") and "reit" in synonyms("real estate")
