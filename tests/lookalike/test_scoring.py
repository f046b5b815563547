"""The lookalike scorer: what a candidate's profile shares with the reference's, and what it does not."""

from __future__ import annotations

from firmscout.entities import CompanyProfile
from firmscout.lookalike import scoring

TOAST = CompanyProfile(domain="toasttab.com", name="Toast", description="Restaurant point-of-sale and payments "
                       "platform.", products="restaurant point-of-sale platform; online ordering; payroll")


def _company(domain: str, description: str) -> CompanyProfile:
    return CompanyProfile(domain=domain, name=domain.split(".")[0].title(), description=description)


def _ranked(pool: list[CompanyProfile], reference: CompanyProfile = TOAST) -> list[str]:
    query = scoring.profile_text(reference, products_weight=2)
    return [pool[s.index].domain for s in scoring.rank(query, pool, reference=reference)]


def test_shared_product_words_rank_first() -> None:
    pool = [
        _company("notes.io", "Collaborative notes and wikis for teams."),
        _company("possy.com", "Point-of-sale system for restaurants with online ordering."),
        _company("clover.com", "Restaurant point-of-sale, payments and payroll for cafes."),
    ]
    assert _ranked(pool)[-1] == "notes.io"


def test_the_reference_is_never_its_own_lookalike() -> None:
    pool = [TOAST, _company("possy.com", "Point-of-sale system for restaurants.")]
    assert _ranked(pool) == ["possy.com"]


def test_a_company_describing_itself_by_the_reference_is_demoted() -> None:
    pool = [
        _company("toastpros.com", "Restaurant point-of-sale setup for Toast users: payments and online ordering."),
        _company("possy.com", "Restaurant point-of-sale with payments and online ordering."),
    ]
    assert _ranked(pool) == ["possy.com", "toastpros.com"]


def test_a_services_firm_is_demoted_when_the_reference_sells_a_product() -> None:
    pool = [
        _company("posconsult.com", "Consulting agency for restaurant point-of-sale and online ordering projects."),
        _company("possy.com", "Restaurant point-of-sale with online ordering."),
    ]
    assert _ranked(pool) == ["possy.com", "posconsult.com"]


def test_a_place_weighs_less_than_a_product() -> None:
    reference = CompanyProfile(domain="shopee.com", name="Shopee", description="E-commerce marketplace in "
                               "Southeast Asia.")
    pool = [
        _company("sealogistics.com", "Logistics company in Southeast Asia."),
        _company("marketly.com", "E-commerce marketplace for shoppers in Latin America."),
    ]
    assert _ranked(pool, reference)[0] == "marketly.com"


def test_scores_are_between_zero_and_one_best_first() -> None:
    pool = [_company("possy.com", "Point-of-sale for restaurants."), _company("notes.io", "Notes for teams.")]
    scored = scoring.rank(scoring.profile_text(TOAST), pool, reference=TOAST)
    assert all(0.0 <= s.score <= 1.0 for s in scored)
    assert [s.score for s in scored] == sorted((s.score for s in scored), reverse=True)


def test_search_words_and_phrases_come_from_what_the_reference_says() -> None:
    assert "restaurant" in scoring.query_words(TOAST)
    assert "point sale" not in scoring.query_phrases(TOAST), "a phrase is adjacent words, 'of' breaks it"
    assert "online ordering" in scoring.query_phrases(TOAST)


def test_word_pairs_come_from_the_references_first_words() -> None:
    pairs = scoring.query_pairs(TOAST, words=3)
    first = scoring.query_words(TOAST)[:3]
    assert pairs == [(first[0], first[1]), (first[0], first[2]), (first[1], first[2])]
    assert scoring.query_pairs(CompanyProfile(domain="x.com", name="X", description="Robots.")) == []


def test_the_references_own_units_and_other_roles_are_demoted() -> None:
    maker = CompanyProfile(domain="cat.com", name="Caterpillar", description="Manufacturer of construction and "
                           "mining equipment, engines and turbines.")
    pool = [
        _company("dealer.example", "Dealer of used construction and mining equipment and engines."),
        CompanyProfile(domain="cat-ottawa.example", name="Caterpillar Ottawa",
                       description="Manufacturer of construction and mining equipment and engines."),
        _company("komatsu.example", "Manufacturer of construction and mining equipment and engines."),
        _company("mag.example", "Magazine about construction and mining equipment and engines."),
    ]
    assert _ranked(pool, maker)[0] == "komatsu.example"
    assert _ranked(pool, maker)[-1] == "cat-ottawa.example"
