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
        assert "for customer support" in parsed.constraints.topics  # the use, kept whole
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

    def test_a_modified_concept_is_a_kind_of_it_not_a_synonym(self) -> None:
        from firmscout.pipeline.local.vocabulary import synonyms

        assert "water utility" in synonyms("utility")
        assert not {"utility", "electric utility", "power"} & set(synonyms("water utility"))
        assert "machine learning" not in synonyms("generative ai") and "generative ai" in synonyms("ai")
        assert "beverage" not in synonyms("spirits") and "logistics" not in synonyms("shipping")
        assert "spirits" in synonyms("beverage") and "shipping" in synonyms("logistics")


class TestHeadNouns:
    """Head nouns say what kind of organisation is wanted; they are never required topic words."""

    def test_contractors_is_not_a_topic(self) -> None:
        parsed = parse_query("defense contractors in the United States")
        assert parsed.constraints.countries == ("United States",)
        assert all("contractor" not in t or "defense" in t for t in parsed.constraints.topics)
        assert "defense" in parsed.search_terms

    def test_manufacturers_of_reads_the_object_as_the_topic(self) -> None:
        assert parse_query("manufacturers of industrial robots in Japan").constraints.topics == ("industrial robot",)

    def test_makers_is_dropped(self) -> None:
        assert parse_query("semiconductor equipment makers").constraints.topics == ("semiconductor equipment",)

    def test_product_head_beside_a_topic_is_dropped(self) -> None:
        assert parse_query("AI tools for lawyers").constraints.topics == ("ai", "for lawyer")

    def test_product_head_alone_is_the_topic(self) -> None:
        assert parse_query("German software companies").constraints.topics == ("software",)


class TestPhrases:
    def test_known_industry_phrase_stays_whole(self) -> None:
        assert parse_query("semiconductor equipment makers").constraints.topics == ("semiconductor equipment",)

    def test_unknown_adjacent_words_are_one_phrase(self) -> None:
        assert parse_query("Australian gold miners").constraints.topics == ("gold miner",)

    def test_unknown_phrase_is_searched_word_by_word_too(self) -> None:
        terms = parse_query("Australian gold miners").search_terms
        assert {"gold miner", "gold", "miner"} <= set(terms)

    def test_known_words_side_by_side_stay_separate(self) -> None:
        assert parse_query("B2B payments companies in Brazil").constraints.topics == ("b2b", "payment")


class TestAlternatives:
    def test_and_between_kinds_reads_as_either(self) -> None:
        c = parse_query("Japanese automobile and auto parts manufacturers").constraints
        assert c.topics == ("automobile | auto part",)
        assert c.countries == ("Japan",)

    def test_commas_join_alternatives_too(self) -> None:
        assert parse_query("fintech, insurtech or proptech startups").constraints.topics == (
            "fintech | insurtech | proptech",)

    def test_a_known_and_phrase_is_one_topic(self) -> None:
        assert parse_query("oil and gas companies in Texas").constraints.topics == ("oil and gas",)


class TestBuyer:
    """"X for Y" is product X bought by Y: Y is kept as a buyer topic ("for y"), never as the product."""

    def test_product_for_buyer(self) -> None:
        c = parse_query("payroll software for small businesses").constraints
        assert c.topics == ("payroll software", "for small business")
        assert c.max_employees is None  # the buyers' size, not the company's

    def test_generic_product_for_buyer(self) -> None:
        assert parse_query("software for restaurants").constraints.topics == ("software product", "for restaurant")

    def test_buyer_words_come_after_the_products_in_search_terms(self) -> None:
        terms = parse_query("payroll software for small businesses").search_terms
        assert terms.index("payroll") < terms.index("small business")

    def test_generic_product_is_not_searched(self) -> None:
        terms = parse_query("software for restaurants").search_terms
        assert terms[0] == "restaurant"
        assert "software product" not in terms


class TestPlaceLevels:
    def test_city_is_not_its_state(self) -> None:
        c = parse_query("Series A healthcare startups in San Francisco").constraints
        assert c.cities == ("San Francisco",)
        assert c.states == ()
        assert c.countries == ("United States",)

    def test_state_stays_a_state(self) -> None:
        assert parse_query("oil companies in Texas").constraints.states == ("Texas",)

    def test_a_major_city_is_a_place_not_a_topic(self) -> None:
        c = parse_query("fintech startups in Lagos that are hiring").constraints
        assert (c.cities, c.countries, c.topics) == (("Lagos",), ("Nigeria",), ("fintech",))

    def test_city_spellings_meet(self) -> None:
        assert parse_query("edtech in Bangalore").constraints.cities == ("Bengaluru",)
        assert parse_query("banks in Frankfurt am Main").constraints.cities == ("Frankfurt",)

    def test_city_named_like_a_word_needs_a_capital(self) -> None:
        assert parse_query("banks in Victoria").constraints.cities == ("Victoria",)
        assert parse_query("victoria sponge bakeries").constraints.cities == ()


class TestStartups:
    """"Startups" implies a size softly: a qualifier, not a bound that filters unknown headcounts out."""

    def test_startups_is_a_qualifier_not_a_size(self) -> None:
        parsed = parse_query("telehealth startups in New York")
        assert parsed.qualifiers == ("startup",)
        assert (parsed.constraints.min_employees, parsed.constraints.max_employees) == (None, None)

    def test_a_stated_size_replaces_it(self) -> None:
        parsed = parse_query("security startups with fewer than 10 people")
        assert parsed.qualifiers == ()
        assert parsed.constraints.max_employees == 9


class TestQualifiers:
    """Facts no field records become qualifiers (own criteria), never topics."""

    def test_funding_stage(self) -> None:
        parsed = parse_query("Series A healthcare startups in San Francisco")
        assert parsed.qualifiers == ("Series A", "startup")
        assert parsed.constraints.topics == ("healthcare",)

    def test_yc_backed(self) -> None:
        parsed = parse_query("YC-backed fintech startups")
        assert parsed.qualifiers == ("startup", "Y Combinator-backed")
        assert parsed.constraints.topics == ("fintech",)

    def test_remote_first(self) -> None:
        parsed = parse_query("remote-first developer tools companies")
        assert parsed.qualifiers == ("remote-first",)
        assert parsed.constraints.topics == ("developer tool",)

    def test_hiring(self) -> None:
        parsed = parse_query("robotics startups that are hiring")
        assert parsed.qualifiers == ("startup", "hiring")
        assert parsed.constraints.topics == ("robotics",)

    def test_hiring_as_a_product_is_a_topic(self) -> None:
        assert parse_query("hiring software for restaurants").qualifiers == ()


class TestReference:
    def test_competitors_of(self) -> None:
        parsed = parse_query("competitors of Stripe")
        assert parsed.reference == "Stripe"
        assert parsed.constraints.topics == ()

    def test_similar_to_a_domain(self) -> None:
        assert parse_query("companies similar to notion.so").reference == "notion.so"

    def test_name_before_the_relation(self) -> None:
        assert parse_query("Stripe lookalikes").reference == "Stripe"
        assert parse_query("Salesforce alternatives in Europe").reference == "Salesforce"

    def test_other_words_remain_the_topic_and_place(self) -> None:
        parsed = parse_query("fintech competitors of Stripe in Europe")
        assert parsed.reference == "Stripe"
        assert parsed.constraints.topics == ("fintech",)
        assert parsed.places == ("Europe",)

    def test_reference_is_searched(self) -> None:
        assert "stripe" in parse_query("competitors of Stripe").search_terms

    def test_pronouns_are_not_references(self) -> None:
        assert parse_query("companies like us").reference is None
