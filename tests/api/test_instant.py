"""shared/spec/extruct-instant-search.md: instant search, lookalikes, company lookup and billing."""

from __future__ import annotations

import json
from typing import Any, get_args
from urllib.parse import quote

import httpx
import pytest

from firmscout.api.company_schemas import SizeBucket
from firmscout.entities import EMPLOYEE_BUCKETS
from firmscout.tasks.runtime import Runtime
from tests.factories import auth, company, create_companies, create_token

SEARCH = "/v1/companies/search"
COMPANY_FIELDS = {
    "id", "domain", "name", "short_description", "full_description", "products_services", "use_cases",
    "target_audience", "other_considerations", "founding_year", "employee_count", "hq_country",
    "hq_state_province", "hq_city", "hq_full_address", "social_profiles", "website_authority",
}

COMPANIES = [
    company("acme.com", "Acme Procurement", country="Germany", city="Berlin", founded_year=2016, employees=120,
            employee_count="51-200", description="AI procurement software for enterprise finance teams",
            full_description="Acme builds procurement software.", products="Purchase orders, supplier onboarding",
            linkedin_url="https://www.linkedin.com/company/acme"),
    company("buyco.fr", "BuyCo", country="France", city="Paris", founded_year=2019, employee_count="11-50",
            description="Procurement automation for finance teams"),
    company("spendly.co.uk", "Spendly", country="United Kingdom", city="London", founded_year=2012,
            employees=600, employee_count="501-1000", description="Spend management and procurement software"),
    # Nothing known but what it does: unknown fields fail includes and pass excludes.
    company("ordera.com", "Ordera", description="Procurement marketplace for restaurants"),
    company("sourcely.de", "Sourcely", country="Germany", city="Munich", founded_year=2021,
            employee_count="201-500", description="Supplier sourcing and procurement analytics"),
    company("panaderia.es", "Panadería Sol", country="Spain", city="Madrid", founded_year=1990,
            description="Artisan bakery chain"),
]
PROCUREMENT = {"acme.com", "buyco.fr", "spendly.co.uk", "ordera.com", "sourcely.de"}


@pytest.fixture
async def token(runtime: Runtime) -> str:
    await create_companies(runtime, COMPANIES)
    return await create_token(runtime)


async def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _search(client: httpx.AsyncClient, token: str, **body: Any) -> dict[str, Any]:
    return await _ok(await client.post(SEARCH, json={"q": "procurement", **body}, headers=auth(token)))


async def _found(client: httpx.AsyncClient, token: str, filters: dict[str, Any]) -> set[str]:
    return {r["domain"] for r in (await _search(client, token, filters=filters))["results"]}


def _loc(response: httpx.Response) -> list[Any]:
    assert response.status_code == 422, response.text
    loc: list[Any] = response.json()["detail"][0]["loc"]
    return loc


def _compact(filters: dict[str, Any]) -> str:
    return json.dumps(filters, separators=(",", ":"))


class TestSearch:
    async def test_finds_matching_companies_best_first(self, client: httpx.AsyncClient, token: str) -> None:
        body = await _search(client, token)
        assert {r["domain"] for r in body["results"]} == PROCUREMENT
        scores = [r["relevance_score"] for r in body["results"]]
        assert all(0 <= s <= 1 for s in scores)
        assert scores == sorted(scores, reverse=True)
        assert body["request"] == {"offset": 0, "limit": 20, "query": "procurement", "filters": {}}

    async def test_each_result_is_a_company_record(self, client: httpx.AsyncClient, token: str) -> None:
        results = {r["domain"]: r for r in (await _search(client, token))["results"]}
        for result in results.values():
            assert set(result) == COMPANY_FIELDS | {"relevance_score"}
        acme = results["acme.com"]
        assert acme["id"].isdigit()
        assert acme["name"] == "Acme Procurement"
        assert acme["short_description"] == "AI procurement software for enterprise finance teams"
        assert acme["full_description"] == "Acme builds procurement software."
        assert acme["products_services"] == "Purchase orders, supplier onboarding"
        assert acme["founding_year"] == 2016
        assert acme["employee_count"] == "120", "the exact head count when known"
        assert (acme["hq_country"], acme["hq_city"], acme["hq_state_province"]) == ("Germany", "Berlin", None)
        assert acme["hq_full_address"] == "Berlin, Germany"
        assert acme["social_profiles"] == {"linkedin": "https://www.linkedin.com/company/acme"}
        assert acme["website_authority"] == {}
        assert acme["use_cases"] is acme["target_audience"] is acme["other_considerations"] is None
        assert results["buyco.fr"]["employee_count"] == "11-50", "else the size bucket"
        ordera = results["ordera.com"]
        assert ordera["employee_count"] is ordera["hq_full_address"] is ordera["founding_year"] is None
        assert ordera["social_profiles"] == {}

    async def test_get_form_returns_identical_results(self, client: httpx.AsyncClient, token: str) -> None:
        filters = {"exclude": {"country": ["France"], "domains": ["www.spendly.co.uk"]}, "range": {"founded": {}}}
        posted = await _search(client, token, filters=filters, pagination={"offset": 1, "limit": 2})
        got = await _ok(await client.get(SEARCH, params={"q": "procurement", "filters": _compact(filters),
                                                         "offset": 1, "limit": 2}, headers=auth(token)))
        assert got == posted
        assert len(got["results"]) == 2
        assert got["request"]["filters"] == {"exclude": {"country": ["France"], "domains": ["spendly.co.uk"]},
                                             "range": {"founded": {}}}

    async def test_places_in_the_query_do_not_become_filters(self, client: httpx.AsyncClient, token: str) -> None:
        body = await _ok(await client.post(SEARCH, json={"q": "procurement in Germany"}, headers=auth(token)))
        assert "buyco.fr" in {r["domain"] for r in body["results"]}, "recall-first: only filters filter"

    async def test_no_match_is_an_empty_page(self, client: httpx.AsyncClient, token: str) -> None:
        body = await _ok(await client.post(SEARCH, json={"q": "quantum submarines"}, headers=auth(token)))
        assert body["results"] == []


class TestPagination:
    async def test_pages_tile_the_ranking(self, client: httpx.AsyncClient, token: str) -> None:
        full = (await _search(client, token))["results"]
        pages = [(await _search(client, token, pagination={"offset": o, "limit": 2}))["results"] for o in (0, 2, 4)]
        assert [r["domain"] for page in pages for r in page] == [r["domain"] for r in full]

    async def test_deepest_page_is_allowed(self, client: httpx.AsyncClient, token: str) -> None:
        body = await _search(client, token, pagination={"offset": 1750, "limit": 250})
        assert body["results"] == []
        assert (body["request"]["offset"], body["request"]["limit"]) == (1750, 250)

    @pytest.mark.parametrize(("body", "loc"), [
        ({"q": "procurement", "pagination": {"offset": -1}}, ["body", "pagination", "offset"]),
        ({"q": "procurement", "pagination": {"limit": 0}}, ["body", "pagination", "limit"]),
        ({"q": "procurement", "pagination": {"limit": 251}}, ["body", "pagination", "limit"]),
        ({"q": "procurement", "pagination": {"offset": 1990, "limit": 20}}, ["body", "pagination", "limit"]),
        ({"q": "procurement", "pagination": {"limit": "5"}}, ["body", "pagination", "limit"]),
        ({"q": ""}, ["body", "q"]),
        ({"q": "   "}, ["body", "q"]),
        ({}, ["body", "q"]),
    ])
    async def test_post_refuses_with_the_field_named(
        self, client: httpx.AsyncClient, token: str, body: dict[str, Any], loc: list[Any]
    ) -> None:
        assert _loc(await client.post(SEARCH, json=body, headers=auth(token))) == loc

    @pytest.mark.parametrize(("params", "loc"), [
        ({"q": "procurement", "offset": -1}, ["query", "offset"]),
        ({"q": "procurement", "limit": 251}, ["query", "limit"]),
        ({"q": "procurement", "offset": 1990, "limit": 20}, ["query", "limit"]),
        ({}, ["query", "q"]),
        ({"q": "  "}, ["query", "q"]),
        ({"q": "procurement", "filters": "{not json"}, ["query", "filters"]),
        ({"q": "procurement", "filters": '{"include":{"size":["2-5"]}}'}, ["query", "filters", "include", "size", 0]),
    ])
    async def test_get_refuses_with_the_parameter_named(
        self, client: httpx.AsyncClient, token: str, params: dict[str, Any], loc: list[Any]
    ) -> None:
        assert _loc(await client.get(SEARCH, params=params, headers=auth(token))) == loc


class TestFilters:
    @pytest.mark.parametrize("country", ["Germany", "germany", "DE", "DEU", "Deutschland", "DACH"])
    async def test_include_country_by_name_code_alias_or_region(
        self, client: httpx.AsyncClient, token: str, country: str
    ) -> None:
        assert await _found(client, token, {"include": {"country": [country]}}) == {"acme.com", "sourcely.de"}

    async def test_countries_are_echoed_by_canonical_name(self, client: httpx.AsyncClient, token: str) -> None:
        body = await _search(client, token, filters={"include": {"country": ["DE", "UK", "Germany"]}})
        assert body["request"]["filters"] == {"include": {"country": ["Germany", "United Kingdom"]}}

    @pytest.mark.parametrize("country", ["France", "FR"])
    async def test_exclude_country_keeps_unknown(self, client: httpx.AsyncClient, token: str, country: str) -> None:
        assert await _found(client, token, {"exclude": {"country": [country]}}) == PROCUREMENT - {"buyco.fr"}

    async def test_size(self, client: httpx.AsyncClient, token: str) -> None:
        include = {"include": {"size": ["11-50", "501-1000"]}}
        assert await _found(client, token, include) == {"buyco.fr", "spendly.co.uk"}
        assert await _found(client, token, {"include": {"size": ["51-200"]}}) == {"acme.com"}
        assert await _found(client, token, {"exclude": {"size": ["11-50"]}}) == PROCUREMENT - {"buyco.fr"}

    async def test_city_as_given(self, client: httpx.AsyncClient, token: str) -> None:
        assert await _found(client, token, {"include": {"city": [" Berlin "]}}) == {"acme.com"}
        assert await _found(client, token, {"exclude": {"city": ["Paris"]}}) == PROCUREMENT - {"buyco.fr"}

    async def test_exclude_domains_in_any_url_form(self, client: httpx.AsyncClient, token: str) -> None:
        filters = {"exclude": {"domains": ["https://www.acme.com/pricing", "shop.buyco.fr", "acme.com"]}}
        body = await _search(client, token, filters=filters)
        assert {r["domain"] for r in body["results"]} == PROCUREMENT - {"acme.com", "buyco.fr"}
        assert body["request"]["filters"] == {"exclude": {"domains": ["acme.com", "buyco.fr"]}}

    async def test_a_thousand_domains_are_accepted(self, client: httpx.AsyncClient, token: str) -> None:
        domains = ["acme.com", *(f"other{i}.com" for i in range(999))]
        assert await _found(client, token, {"exclude": {"domains": domains}}) == PROCUREMENT - {"acme.com"}

    async def test_founded_range_drops_unknown(self, client: httpx.AsyncClient, token: str) -> None:
        founded = {"range": {"founded": {"min": 2015, "max": 2020}}}
        assert await _found(client, token, founded) == {"acme.com", "buyco.fr"}
        assert await _found(client, token, {"range": {"founded": {"min": 2020}}}) == {"sourcely.de"}
        assert await _found(client, token, {"range": {"founded": {"max": 2012}}}) == {"spendly.co.uk"}

    async def test_filters_combine(self, client: httpx.AsyncClient, token: str) -> None:
        filters = {"include": {"country": ["DE"], "size": ["201-500"]}, "range": {"founded": {"min": 2020}}}
        assert await _found(client, token, filters) == {"sourcely.de"}

    @pytest.mark.parametrize(("filters", "loc"), [
        ({"include": {"industry": ["Software"]}}, ["include", "industry"]),
        ({"region": {}}, ["region"]),
        ({"include": {"domains": ["acme.com"]}}, ["include", "domains"]),
        ({"include": {"size": ["2-5"]}}, ["include", "size", 0]),
        ({"exclude": {"size": ["10000+"]}}, ["exclude", "size", 0]),
        ({"exclude": {"domains": ["acme.com", "not a domain"]}}, ["exclude", "domains", 1]),
        ({"exclude": {"domains": ["localhost"]}}, ["exclude", "domains", 0]),
        ({"exclude": {"domains": [f"d{i}.com" for i in range(1001)]}}, ["exclude", "domains"]),
        ({"include": {"country": ["Atlantis"]}}, ["include", "country", 0]),
        ({"exclude": {"country": ["Germany", "Berlin"]}}, ["exclude", "country", 1]),
        ({"range": {"founded": {"min": "2015"}}}, ["range", "founded", "min"]),
        ({"range": {"founded": {"max": 2020.5}}}, ["range", "founded", "max"]),
        ({"range": {"founded": {"min": 2021, "max": 2020}}}, ["range", "founded"]),
        ({"range": {"employees": {"min": 1}}}, ["range", "employees"]),
        (["Germany"], []),
    ])
    async def test_invalid_filters_are_422_naming_the_field(
        self, client: httpx.AsyncClient, token: str, filters: Any, loc: list[Any]
    ) -> None:
        response = await client.post(SEARCH, json={"q": "procurement", "filters": filters}, headers=auth(token))
        assert _loc(response) == ["body", "filters", *loc]
        get = await client.get(SEARCH, params={"q": "procurement", "filters": _compact(filters)}, headers=auth(token))
        assert _loc(get) == ["query", "filters", *loc]

    def test_size_buckets_are_the_specs(self) -> None:
        assert get_args(SizeBucket) == tuple(label for label, _, _ in EMPLOYEE_BUCKETS)


class TestSimilar:
    async def test_lookalikes_exclude_the_reference(self, client: httpx.AsyncClient, token: str) -> None:
        body = await _ok(await client.post("/v1/companies/acme.com/similar", json={}, headers=auth(token)))
        domains = [r["domain"] for r in body["results"]]
        assert domains and "acme.com" not in domains
        assert set(domains) <= {c.domain for c in COMPANIES}
        assert all(set(r) == COMPANY_FIELDS | {"relevance_score"} for r in body["results"])
        reference = body["reference_company"]
        assert set(reference) == COMPANY_FIELDS
        assert reference["domain"] == "acme.com"
        assert body["request"] == {"offset": 0, "limit": 20, "filters": {}, "reference_company_id": reference["id"]}

    async def test_body_may_be_omitted(self, client: httpx.AsyncClient, token: str) -> None:
        without = await _ok(await client.post("/v1/companies/acme.com/similar", headers=auth(token)))
        with_empty = await _ok(await client.post("/v1/companies/acme.com/similar", json={}, headers=auth(token)))
        assert without == with_empty

    async def test_get_form_returns_identical_results(self, client: httpx.AsyncClient, token: str) -> None:
        filters = {"exclude": {"domains": ["buyco.fr"]}}
        posted = await _ok(await client.post("/v1/companies/acme.com/similar", headers=auth(token),
                                             json={"filters": filters, "pagination": {"offset": 1, "limit": 2}}))
        got = await _ok(await client.get("/v1/companies/acme.com/similar", headers=auth(token),
                                         params={"filters": _compact(filters), "offset": 1, "limit": 2}))
        assert got == posted

    async def test_exclude_domains_add_to_the_reference(self, client: httpx.AsyncClient, token: str) -> None:
        body = await _ok(await client.post("/v1/companies/acme.com/similar", headers=auth(token),
                                           json={"filters": {"exclude": {"domains": ["www.buyco.fr"]}}}))
        assert not {r["domain"] for r in body["results"]} & {"acme.com", "buyco.fr"}

    async def test_filters_apply(self, client: httpx.AsyncClient, token: str) -> None:
        body = await _ok(await client.post("/v1/companies/acme.com/similar", headers=auth(token),
                                           json={"filters": {"include": {"country": ["DE"]}}}))
        assert {r["domain"] for r in body["results"]} <= {"sourcely.de"}
        assert body["request"]["filters"] == {"include": {"country": ["Germany"]}}

    @pytest.mark.parametrize("identifier", [
        "https://www.acme.com/x", quote("https://www.acme.com/x", safe=""), "www.acme.com", "ACME.com",
    ])
    async def test_identifier_normalises_to_the_registered_domain(
        self, client: httpx.AsyncClient, token: str, identifier: str
    ) -> None:
        body = await _ok(await client.post(f"/v1/companies/{identifier}/similar", headers=auth(token)))
        assert body["reference_company"]["domain"] == "acme.com"

    async def test_identifier_may_be_the_company_id(self, client: httpx.AsyncClient, token: str) -> None:
        by_domain = await _ok(await client.get("/v1/companies/acme.com/similar", headers=auth(token)))
        company_id = by_domain["reference_company"]["id"]
        by_id = await _ok(await client.get(f"/v1/companies/{company_id}/similar", headers=auth(token)))
        assert by_id == by_domain

    @pytest.mark.parametrize("identifier", ["unknown-company.com", "999999", "99999999999999999999999", "²", "nope"])
    async def test_unknown_reference_is_404(self, client: httpx.AsyncClient, token: str, identifier: str) -> None:
        for response in (await client.post(f"/v1/companies/{identifier}/similar", headers=auth(token)),
                         await client.get(f"/v1/companies/{identifier}/similar", headers=auth(token))):
            assert response.status_code == 404, response.text
            assert "reference company not found" in response.json()["detail"].lower()

    async def test_pagination_is_validated(self, client: httpx.AsyncClient, token: str) -> None:
        url = "/v1/companies/acme.com/similar"
        post = await client.post(url, json={"pagination": {"offset": 2000}}, headers=auth(token))
        assert _loc(post) == ["body", "pagination", "offset"]
        get = await client.get(url, params={"offset": 1999, "limit": 2}, headers=auth(token))
        assert _loc(get) == ["query", "limit"]


class TestLookup:
    async def test_company_by_domain_url_or_id(self, client: httpx.AsyncClient, token: str) -> None:
        company = await _ok(await client.get("/v1/companies/acme.com", headers=auth(token)))
        assert set(company) == COMPANY_FIELDS, "no relevance_score outside a search"
        assert company["name"] == "Acme Procurement"
        for identifier in ("https://www.acme.com/x", quote("https://acme.com/about", safe=""), company["id"]):
            assert await _ok(await client.get(f"/v1/companies/{identifier}", headers=auth(token))) == company
        similar = await _ok(await client.get("/v1/companies/acme.com/similar", headers=auth(token)))
        assert similar["reference_company"] == company

    @pytest.mark.parametrize("identifier", ["unknown-company.com", "424242", "not a domain"])
    async def test_unknown_company_is_404(self, client: httpx.AsyncClient, token: str, identifier: str) -> None:
        response = await client.get(f"/v1/companies/{identifier}", headers=auth(token))
        assert response.status_code == 404
        assert "not found" in response.json()["detail"]


ENDPOINTS = [
    ("POST", SEARCH, {"q": "procurement"}), ("GET", f"{SEARCH}?q=procurement", None),
    ("POST", "/v1/companies/acme.com/similar", {}), ("GET", "/v1/companies/acme.com/similar", None),
    ("GET", "/v1/companies/acme.com", None), ("GET", "/v1/billing", None),
]


class TestAuth:
    @pytest.mark.parametrize(("method", "url", "body"), ENDPOINTS)
    async def test_every_endpoint_needs_a_valid_token(
        self, client: httpx.AsyncClient, token: str, method: str, url: str, body: Any
    ) -> None:
        for headers in ({}, auth("fs_not-a-real-token")):
            response = await client.request(method, url, json=body, headers=headers)
            assert response.status_code == 401
            assert response.headers["www-authenticate"] == "Bearer"


class TestBilling:
    async def test_billing_is_the_user_on_an_unrestricted_plan(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        token = await create_token(runtime, email="ana@example.com", org="Acme Corp")
        user = await _ok(await client.get("/v1/user", headers=auth(token)))
        billing = await _ok(await client.get("/v1/billing", headers=auth(token)))
        assert billing == {"user": user, "subscription": {"requires_subscription": False, "plan_tier": "pro"}}

    async def test_endpoints_are_documented(self, client: httpx.AsyncClient) -> None:
        paths = (await client.get("/openapi.json")).json()["paths"]
        assert {"/v1/companies/search", "/v1/companies/{company_identifier}",
                "/v1/companies/{company_identifier}/similar", "/v1/billing"} <= set(paths)
        assert paths["/v1/companies/search"]["get"]["deprecated"] is True
