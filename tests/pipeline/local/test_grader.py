"""Grading without an LLM: each criterion 1-5 with an explanation that cites the profile."""

from hypothesis import given, settings
from hypothesis import strategies as st

from firmscout.entities import CompanyProfile, Criterion
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
        mentioned = CompanyProfile(domain="y.com", name="Y", description="A lender based in Madrid, Spain")
        assert grade_company(self.plan.criteria, mentioned, self.plan)["geography"].grade == 3

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
