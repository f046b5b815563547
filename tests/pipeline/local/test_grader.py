"""Grading without an LLM: each criterion 1-5 with an explanation that cites the profile."""

from hypothesis import given, settings
from hypothesis import strategies as st

from firmscout.entities import CompanyProfile, Criterion, Passage
from firmscout.pipeline.local import grade_company, infer_criteria, is_high_fit, plan_for_criteria, relevance

WIKI = "https://en.wikipedia.org/wiki/BBVA"
BBVA = CompanyProfile(
    domain="bbva.com",
    name="BBVA",
    description="Bank headquartered in Bilbao, Spain",
    country="Spain",
    city="Bilbao",
    industries=("Banks", "Financials"),
    founded_year=1857,
    employees=121_000,
    sources=(WIKI,),
)
COMMERZBANK = CompanyProfile(
    domain="commerzbank.de",
    name="Commerzbank",
    country="Germany",
    industries=("Banking & Investment Services", "Banks", "Financials", "Financial services"),
    sources=("https://en.wikipedia.org/wiki/Commerzbank",),
)
BASF = CompanyProfile(
    domain="basf.com", name="BASF", country="Germany", industries=("Chemicals", "Materials"), employees=111_000
)


class TestBanksInSpain:
    plan = infer_criteria("banks in Spain")

    def test_bbva_is_a_perfect_fit(self) -> None:
        scores = grade_company(self.plan.criteria, BBVA, self.plan)
        assert {k: g.grade for k, g in scores.items()} == {"industry_focus": 5, "geography": 5}
        assert is_high_fit(scores)
        assert relevance(scores) == 100

    def test_explanations_cite_the_data(self) -> None:
        scores = grade_company(self.plan.criteria, BBVA, self.plan)
        assert "Spain" in scores["geography"].explanation
        assert "en.wikipedia.org" in scores["geography"].explanation
        assert "'Banks; Financials'" in scores["industry_focus"].explanation
        assert scores["geography"].sources == (WIKI,)

    def test_german_bank_fails_geography(self) -> None:
        scores = grade_company(self.plan.criteria, COMMERZBANK, self.plan)
        assert scores["geography"].grade == 1
        assert scores["industry_focus"].grade == 5
        assert not is_high_fit(scores)
        assert relevance(scores) == 50

    def test_unknown_country_is_graded_2_or_from_the_description(self) -> None:
        no_country = CompanyProfile(domain="x.com", name="X", industries=("Banks",))
        assert grade_company(self.plan.criteria, no_country, self.plan)["geography"].grade == 2
        mentioned = CompanyProfile(domain="y.com", name="Y", description="A lender with clients across Spain")
        assert grade_company(self.plan.criteria, mentioned, self.plan)["geography"].grade == 3

    def test_a_description_seating_the_company_counts_short_of_a_recorded_country(self) -> None:
        for said in ("A lender in Madrid, Spain.", "A lender headquartered in Valencia. Est. 1901."):
            seated = CompanyProfile(domain="y.com", name="Y", description=said)
            assert grade_company(self.plan.criteria, seated, self.plan)["geography"].grade == 4, said
        abroad = CompanyProfile(domain="z.com", name="Z", description="A lender based in Lisbon, Portugal.")
        assert grade_company(self.plan.criteria, abroad, self.plan)["geography"].grade == 2

    def test_chemical_company_misses_the_topic(self) -> None:
        assert grade_company(self.plan.criteria, BASF, self.plan)["industry_focus"].grade == 1


class TestStructuredCriteria:
    def test_size_match_near_miss_and_miss(self) -> None:
        plan = infer_criteria("European logistics companies with over 10,000 employees")
        size = next(c for c in plan.criteria if c.key == "company_size")

        def grade(employees: int) -> int:
            profile = CompanyProfile(domain="d.com", name="D", employees=employees)
            return grade_company([size], profile, plan)["company_size"].grade

        assert (grade(12_000), grade(9_000), grade(500)) == (5, 3, 1)
        unknown = CompanyProfile(domain="d.com", name="D")
        assert grade_company([size], unknown, plan)["company_size"].grade == 2

    def test_size_from_bucket_label(self) -> None:
        plan = infer_criteria("open-source observability tools with fewer than 20 people")
        tiny = CompanyProfile(domain="t.io", name="T", employee_count="1-10")
        assert grade_company(plan.criteria, tiny, plan)["company_size"].grade == 5

    def test_founding_year(self) -> None:
        plan = infer_criteria("Nordic banks founded before 1900")
        old = CompanyProfile(domain="o.se", name="O", country="Sweden", industries=("Banks",), founded_year=1856)
        young = CompanyProfile(domain="y.se", name="Y", country="Sweden", industries=("Banks",), founded_year=1990)
        assert grade_company(plan.criteria, old, plan)["founding_year"].grade == 5
        assert grade_company(plan.criteria, young, plan)["founding_year"].grade == 1


class TestTopics:
    def test_tags_are_strongest_evidence(self) -> None:
        plan = infer_criteria("B2B payments companies in Brazil")
        yc = CompanyProfile(domain="pay.com.br", name="Pay", country="Brazil", tags=("B2B", "Fintech", "Payments"))
        scores = grade_company(plan.criteria, yc, plan)
        assert scores["industry_focus"].grade == 5
        assert is_high_fit(scores)

    def test_description_mention_is_4(self) -> None:
        plan = infer_criteria("chemical companies in Germany")
        profile = CompanyProfile(
            domain="c.de", name="C", country="Germany", description="Maker of specialty chemicals for coatings"
        )
        assert grade_company(plan.criteria, profile, plan)["industry_focus"].grade == 4

    def test_synonyms_bridge_wording(self) -> None:
        plan = infer_criteria("Japanese carmakers")
        toyota = CompanyProfile(domain="toyota.jp", name="Toyota", country="Japan", industries=("Automotive",))
        assert grade_company(plan.criteria, toyota, plan)["industry_focus"].grade == 5


class TestUserCriteria:
    def test_text_is_parsed_and_parts_combine_by_minimum(self) -> None:
        criteria = [Criterion("spanish_bank", "Spanish bank", "A bank headquartered in Spain")]
        plan = plan_for_criteria("banks", criteria)
        assert not plan.criteria_inferred
        assert plan.constraints.countries == ("Spain",)
        assert grade_company(criteria, BBVA, plan)["spanish_bank"].grade == 5
        german = grade_company(criteria, COMMERZBANK, plan)["spanish_bank"]
        assert german.grade == 1
        assert german.explanation.startswith("Lowest of 2 checks")

    def test_unrecognised_criterion_is_unknown(self) -> None:
        criteria = [Criterion("vibe", "Vibe", "The company is one that we would like.")]
        plan = plan_for_criteria("whatever", criteria)
        assert grade_company(criteria, BBVA, plan)["vibe"].grade == 2


PROFILES = st.builds(
    CompanyProfile,
    domain=st.just("a.com"),
    name=st.text(max_size=30),
    description=st.none() | st.text(max_size=80),
    country=st.none() | st.sampled_from(["Spain", "Germany", "United States", "Atlantis", "New York City, New York"]),
    industries=st.lists(st.text(max_size=20), max_size=3).map(tuple),
    employees=st.none() | st.integers(min_value=-5, max_value=10**6),
    employee_count=st.none() | st.sampled_from(["1-10", "10001+", "junk"]),
    founded_year=st.none() | st.integers(min_value=1000, max_value=2100),
)


@settings(max_examples=150, deadline=None)
@given(query=st.text(max_size=80), profile=PROFILES)
def test_grades_in_range_with_explanations(query: str, profile: CompanyProfile) -> None:
    plan = infer_criteria(query)
    scores = grade_company(plan.criteria, profile, plan)
    assert set(scores) == {c.key for c in plan.criteria}
    for grade in scores.values():
        assert 1 <= grade.grade <= 5
        assert grade.explanation.strip()
    assert 0 <= relevance(scores) <= 100


class TestTextEvidenceCalibration:
    """A company's own opening words are good evidence; a mention deep in a long summary is not enough."""

    def _grade(self, description: str) -> int:
        plan = infer_criteria("banks in Germany")
        profile = CompanyProfile(domain="x.de", name="X AG", country="Germany", industries=("Software",),
                                 description=description)
        return grade_company(plan.criteria, profile, plan)["industry_focus"].grade

    def test_opening_sentence_mention_grades_4(self) -> None:
        assert self._grade("X AG operates as a regional bank in Bavaria. It offers loans.") == 4

    def test_mention_in_passing_grades_3(self) -> None:
        text = ("X AG. develops accounting software for small firms. It serves retailers and "
                "wholesalers. Its customers include several banks.")
        assert self._grade(text) == 3

    def test_company_name_abbreviations_do_not_end_the_opening(self) -> None:
        assert self._grade("X Ltd. provides banking services to farmers. It was founded in 1900.") == 4


class TestStatus:
    """'acquired', 'publicly traded', 'defunct' are a company-status criterion graded from the status field."""

    def _grades(self, query: str, status: str | None) -> dict[str, int]:
        plan = infer_criteria(query)
        profile = CompanyProfile(domain="x.com", name="X", tags=("fintech",), status=status)
        return {k: g.grade for k, g in grade_company(plan.criteria, profile, plan).items()}

    def test_matching_status(self) -> None:
        assert self._grades("acquired fintech companies", "Acquired") == {"industry_focus": 5, "company_status": 5}

    def test_other_status_and_unknown_status(self) -> None:
        assert self._grades("acquired fintech companies", "Active")["company_status"] == 1
        assert self._grades("acquired fintech companies", None)["company_status"] == 2

    def test_public_needs_a_company_noun(self) -> None:
        assert infer_criteria("publicly traded fintech companies").constraints.statuses == ("public",)
        assert infer_criteria("public sector software companies").constraints.statuses == ()


def _grade(query: str, profile: CompanyProfile) -> dict[str, int]:
    plan = infer_criteria(query)
    return {k: g.grade for k, g in grade_company(plan.criteria, profile, plan).items()}


FANUC = CompanyProfile(
    domain="fanuc.co.jp", name="Fanuc Corporation", country="Japan", industries=("Machinery", "Industrials"),
    description="Fanuc Corporation provides factory automation products. It offers industrial robots and CNC systems.",
)
MOULDER = CompanyProfile(
    domain="moulder.jp", name="Moulder KK", country="Japan", industries=("Industrials", "Building Products"),
    description="Moulder KK manufactures plastic mouldings for industrial customers.",
)
CHIP_DESIGNER = CompanyProfile(
    domain="chips.example", name="Chip Designer Inc.", country="United States",
    industries=("Semiconductors & Semiconductor Equipment", "Information Technology"),
    description="Chip Designer Inc. designs analog semiconductors for cars.",
)
EQUIPMENT_MAKER = CompanyProfile(
    domain="tools.example", name="Wafer Tools Inc.", country="United States",
    industries=("Semiconductors & Semiconductor Equipment", "Information Technology"),
    description="Wafer Tools Inc. makes semiconductor equipment for wafer processing.",
)


class TestLabelsAsLabels:
    def test_sector_label_does_not_stand_for_a_phrase(self) -> None:
        assert _grade("manufacturers of industrial robots in Japan", MOULDER)["industry_focus"] < 4

    def test_phrase_words_together_in_the_opening(self) -> None:
        assert _grade("manufacturers of industrial robots in Japan", FANUC)["industry_focus"] >= 4

    def test_grouped_label_does_not_show_the_specific_part(self) -> None:
        assert _grade("semiconductor equipment makers", CHIP_DESIGNER)["industry_focus"] == 3

    def test_grouped_label_with_confirming_text(self) -> None:
        assert _grade("semiconductor equipment makers", EQUIPMENT_MAKER)["industry_focus"] == 4

    def test_grouped_label_still_shows_the_broad_part(self) -> None:
        assert _grade("semiconductor companies", CHIP_DESIGNER)["industry_focus"] == 5

    def test_a_kind_is_not_its_siblings(self) -> None:
        power = CompanyProfile(domain="power.example", name="Power plc", country="United Kingdom",
                               industries=("Independent Power Producers", "Utilities"),
                               description="Power plc owns renewable energy, natural gas and water assets.")
        water = CompanyProfile(domain="water.example", name="Water plc", country="United Kingdom",
                               industries=("Water Utilities", "Utilities"),
                               description="Water plc provides water and wastewater services.")
        assert _grade("water utilities in the United Kingdom", power)["industry_focus"] < 4
        assert _grade("water utilities in the United Kingdom", water)["industry_focus"] == 5
        assert _grade("utilities in the United Kingdom", water)["industry_focus"] == 5


class TestAlternativesAndBuyers:
    def test_either_alternative_is_enough(self) -> None:
        toyota = CompanyProfile(domain="toyota.jp", name="Toyota", country="Japan", industries=("Automobiles",))
        denso = CompanyProfile(domain="denso.com", name="Denso", country="Japan", industries=("Auto Components",))
        for company in (toyota, denso):
            assert _grade("Japanese automobile and auto parts manufacturers", company) == {
                "industry_focus": 5, "geography": 5}

    def test_buyer_named_in_the_description(self) -> None:
        pos = CompanyProfile(domain="pos.example", name="TablePOS", tags=("saas",),
                             description="Point-of-sale software for restaurants.")
        assert _grade("software for restaurants", pos)["industry_focus"] == 5

    def test_being_the_buyer_is_not_selling_to_it(self) -> None:
        chain = CompanyProfile(domain="burgers.example", name="Burger Chain", industries=("Restaurants",),
                               description="Burger Chain operates fast-food outlets.")
        assert _grade("software for restaurants", chain)["industry_focus"] < 4

    def test_customers_named_in_a_list_are_not_the_business(self) -> None:
        linen = CompanyProfile(domain="linen.example", name="Linen SA", country="France",
                               description="Linen SA rents table linen and work wear to hotels and hospitals.")
        assert _grade("French hotel companies", linen)["industry_focus"] < 4

    def test_a_list_after_for_names_customers_however_long(self) -> None:
        glass = CompanyProfile(domain="glass.example", name="Glass SA", country="France",
                               description="Glass SA produces glass packaging. It provides bottles and jars for "
                                           "still and sparkling wines, spirits, food products, and beers.")
        miner = CompanyProfile(domain="miner.example", name="Miner Ltd", country="Australia",
                               description="Miner Ltd engages in mineral exploration. It explores for lithium.")
        assert _grade("beer and wine producers in France", glass)["industry_focus"] < 4
        assert _grade("lithium miners in Australia", miner)["industry_focus"] >= 4

    def test_a_product_named_first_in_the_longer_text_is_its_business(self) -> None:
        books = CompanyProfile(domain="books.example", name="Ledgerly", tags=("fintech", "saas"),
                               description="The back office for India's shopkeepers.",
                               full_description="Ledgerly is an accounting app for small businesses. It also "
                                                "offers loans to insurance agents.")
        assert _grade("accounting software for small businesses", books)["industry_focus"] >= 4
        assert _grade("insurance companies", books)["industry_focus"] == 3

    def test_a_products_function_after_for_is_its_use(self) -> None:
        payroll = CompanyProfile(domain="pay.example", name="PayBook", tags=("saas",),
                                 description="Mobile first solution for payroll and expense management for SMEs.")
        assert _grade("payroll software for small businesses", payroll)["industry_focus"] >= 4

    def test_serving_a_products_trade_is_not_making_the_product(self) -> None:
        recruiter = CompanyProfile(domain="talent.example", name="Faven Talent", country="France",
                                   description="Faven Talent is a recruitment agency for payroll software companies "
                                               "in France.")
        maker = CompanyProfile(domain="paie.example", name="Paie SAS", country="France",
                               description="Paie SAS makes payroll software in Paris: salary processing for employers.")
        assert _grade("payroll software companies in France", recruiter)["industry_focus"] < 4
        assert _grade("payroll software companies in France", maker)["industry_focus"] >= 4

    def test_a_website_naming_a_trade_as_its_customers_is_not_in_it(self) -> None:
        recruiter = CompanyProfile(domain="talent.example", name="Kalita Talent", country="Germany",
                                   description="Engineers for the companies that build the future.",
                                   passages=(Passage("http://talent.example/", "Kalita Talent is a recruitment "
                                                     "agency for industrial robots companies in Germany."),))
        assert _grade("industrial robot makers in Germany", recruiter)["industry_focus"] < 4

    def test_an_association_representing_an_industry_is_not_in_it(self) -> None:
        association = CompanyProfile(domain="robots.example", name="Minevi Association", country="Germany",
                                     description="The Minevi Association represents the industrial robots "
                                                 "industry in Germany.")
        assert _grade("industrial robot makers in Germany", association)["industry_focus"] < 4

    def test_a_maker_named_by_its_products_kind_matches(self) -> None:
        printers = CompanyProfile(domain="print.example", name="Kalo Additive", country="Italy",
                                  description="Kalo Additive makes 3D printers in Milan: additive manufacturing.")
        brewery = CompanyProfile(domain="brew.example", name="Kalo Brewing", country="Belgium",
                                 description="Kalo Brewing makes craft beer in Ghent: abbey-style ales.")
        assert _grade("3D printing companies in Italy", printers)["industry_focus"] >= 4
        assert _grade("craft breweries in Belgium", brewery)["industry_focus"] >= 4


class TestQualifiers:
    """A qualifier no field records: 5 with evidence, 4 unknown (kept but not confirmed), 1 when contradicted."""

    def test_evidence_confirms(self) -> None:
        raised = CompanyProfile(domain="h.example", name="Heal", tags=("healthcare",), city="San Francisco",
                                country="United States", employees=20,
                                description="Heal runs virtual clinics; it raised a Series A in 2023.")
        assert _grade("Series A healthcare startups in San Francisco", raised)["funding_stage"] == 5

    def test_unknown_is_4_and_says_so(self) -> None:
        plan = infer_criteria("YC-backed fintech startups")
        quiet = CompanyProfile(domain="f.example", name="Pay", tags=("fintech",), employees=5)
        grade = grade_company(plan.criteria, quiet, plan)["investor"]
        assert grade.grade == 4
        assert "Unknown" in grade.explanation
        assert is_high_fit(grade_company(plan.criteria, quiet, plan))

    def test_listed_company_is_past_series_a(self) -> None:
        listed = CompanyProfile(domain="l.example", name="Listed", tags=("healthcare",), status="Public")
        assert _grade("Series A healthcare startups", listed)["funding_stage"] == 1

    def test_user_criterion_naming_a_qualifier(self) -> None:
        plan = plan_for_criteria("fintech", [Criterion("yc", "YC", "Must be YC-backed")])
        yc = CompanyProfile(domain="y.example", name="Y", description="Y (YC W21) builds payment APIs.")
        assert grade_company(plan.criteria, yc, plan)["yc"].grade == 5


class TestStartupSize:
    """"Startups" implies a size softly: unknown is kept, a known headcount far above counts against it."""

    def test_unknown_headcount_is_kept(self) -> None:
        quiet = CompanyProfile(domain="t.example", name="T", tags=("telehealth",), city="New York",
                               state="New York", country="United States")
        grades = _grade("telehealth startups in New York", quiet)
        assert grades["startup"] == 4
        plan = infer_criteria("telehealth startups in New York")
        assert is_high_fit(grade_company(plan.criteria, quiet, plan))

    def test_startup_sized(self) -> None:
        small = CompanyProfile(domain="s.example", name="S", tags=("telehealth",), employees=40)
        assert _grade("telehealth startups", small)["startup"] == 5

    def test_somewhat_larger_is_not_held_against_it(self) -> None:
        grown = CompanyProfile(domain="g.example", name="G", tags=("telehealth",), employees=450)
        assert _grade("telehealth startups", grown)["startup"] == 4

    def test_far_above_is_not_a_startup(self) -> None:
        big = CompanyProfile(domain="b.example", name="B", tags=("telehealth",), employees=20_000)
        assert _grade("telehealth startups", big)["startup"] == 1

    def test_listed_company_is_not_a_startup(self) -> None:
        listed = CompanyProfile(domain="l.example", name="L", tags=("telehealth",), status="Public")
        assert _grade("telehealth startups", listed)["startup"] == 1


class TestWiderField:
    def test_passing_mention_inside_its_own_wider_field(self) -> None:
        hauler = CompanyProfile(
            domain="h.example", name="Hauler Inc.", country="United States",
            industries=("Air Freight & Logistics", "Transportation", "Industrials"),
            description="Hauler Inc. provides surface transportation services. It operates in three segments: "
                        "Intermodal, Dedicated and Brokerage. The Dedicated segment offers truckload services.")
        assert _grade("trucking companies in the United States", hauler)["industry_focus"] == 4

    def test_passing_mention_outside_it_stays_weak(self) -> None:
        airline = CompanyProfile(
            domain="a.example", name="Air Inc.", country="United States", industries=("Insurance", "Financials"),
            description="Air Inc. sells insurance. It serves retailers and airlines. Its clients include trucking "
                        "fleets.")
        assert _grade("trucking companies in the United States", airline)["industry_focus"] <= 3


class TestPlaceLevels:
    def test_other_city_in_the_state_is_a_miss(self) -> None:
        oakland = CompanyProfile(domain="o.example", name="O", tags=("healthcare",), city="Oakland",
                                 state="California", country="United States", employees=10)
        assert _grade("healthcare startups in San Francisco", oakland)["geography"] == 1

    def test_city_spelling_variants_match(self) -> None:
        bengaluru = CompanyProfile(domain="b.example", name="B", tags=("edtech",), city="Bengaluru", country="India")
        assert _grade("edtech companies in Bangalore", bengaluru)["geography"] == 5

    def test_city_recorded_without_its_state(self) -> None:
        nyc = CompanyProfile(domain="n.example", name="N", tags=("fintech",), city="New York",
                             country="United States")
        assert _grade("fintech companies in New York", nyc)["geography"] == 5


def test_reference_criterion_without_a_found_reference_is_unknown() -> None:
    plan = infer_criteria("competitors of Stripe")
    grade = grade_company(plan.criteria, BBVA, plan)["similar_to_reference"]
    assert grade.grade == 2
    assert "not in the company database" in grade.explanation
