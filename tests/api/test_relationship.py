"""Relationship queries ("competitors of X", "companies like X"): a lookalike plan from X's profile."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from firmscout.entities import CompanyProfile
from firmscout.tasks.runtime import Runtime
from tests.factories import auth, create_companies, create_token, wait_for_task

URL = "/v1/discovery_tasks"
pytestmark = pytest.mark.usefixtures("worker")


def _company(domain: str, name: str, description: str, tags: tuple[str, ...] = (), country: str = "United States"
             ) -> CompanyProfile:
    return CompanyProfile(domain=domain, name=name, description=description, tags=tags, country=country,
                          origin="test")


PAYMENTS = [
    _company("stripe.com", "Stripe", "Online payment processing APIs for internet businesses.",
             ("fintech", "payments")),
    _company("adyen.com", "Adyen", "Payment platform for online and in-store payment processing for merchants.",
             ("payments",), "Netherlands"),
    _company("checkout.com", "Checkout.com", "Online payment processing and card acquiring for enterprises.",
             ("payments",), "United Kingdom"),
    _company("braintreepayments.com", "Braintree", "Payment gateway and online payment processing for merchants.",
             ("fintech", "payments")),
    _company("stripeconsult.com", "Stripe Partners Co", "Consultancy that implements Stripe payments for clients.",
             ("consulting",)),
    _company("toasttab.com", "Toast", "Restaurant point-of-sale and management software.", ("restaurant-tech",)),
    _company("notion.so", "Notion", "Collaborative workspace for notes, docs and wikis.", ("productivity",)),
]


async def _run(client: httpx.AsyncClient, token: str, query: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    created = await client.post(URL, json={"query": query, "desired_num_results": 10}, headers=auth(token))
    assert created.status_code == 200, created.text
    task = created.json()
    done = await wait_for_task(client, token, task["id"])
    results = await client.get(f"{URL}/{task['id']}/results", headers=auth(token))
    return done, results.json()["results"]


class TestCompetitorsOf:
    async def test_finds_companies_with_the_same_product_never_the_reference(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        await create_companies(runtime, PAYMENTS)
        token = await create_token(runtime)
        done, results = await _run(client, token, "competitors of Stripe")
        assert done["status"] == "done"
        reference = next(c for c in done["criteria"] if c["key"] == "similar_to_reference")
        assert "stripe.com" in reference["criterion"], "the criterion names whom it compares with"
        domains = [r["company_website"] for r in results]
        assert {"adyen.com", "checkout.com", "braintreepayments.com"} <= set(domains)
        assert "stripe.com" not in domains
        assert not {"toasttab.com", "notion.so"} & set(domains)

    async def test_places_in_the_query_still_apply(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        await create_companies(runtime, PAYMENTS)
        token = await create_token(runtime)
        _, results = await _run(client, token, "alternatives to Stripe in Europe")
        assert {r["company_website"] for r in results} == {"adyen.com", "checkout.com"}

    async def test_a_domain_names_the_reference(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        await create_companies(runtime, PAYMENTS)
        token = await create_token(runtime)
        _, results = await _run(client, token, "companies similar to stripe.com")
        assert "adyen.com" in {r["company_website"] for r in results}

    async def test_an_unknown_reference_says_so(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        await create_companies(runtime, PAYMENTS)
        token = await create_token(runtime)
        done, results = await _run(client, token, "competitors of Plaid")
        assert results == []
        removed = done["candidates_removed"]["by_criterion"]
        assert removed.get("similar_to_reference", 0) == done["candidates_removed"]["considered"]
