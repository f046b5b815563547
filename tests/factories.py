"""Plain typed factories for test data."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from firmscout.storage.db import unit_of_work
from firmscout.storage.records import CompanyRecord
from firmscout.storage.repositories.companies import upsert_companies
from firmscout.tasks import accounts
from firmscout.tasks.runtime import Runtime


async def create_token(runtime: Runtime, *, email: str = "ana@example.com", org: str | None = "Acme") -> str:
    return await accounts.create_token(runtime.sessions, email=email, org_name=org)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def create_companies(runtime: Runtime, records: list[CompanyRecord]) -> None:
    async with unit_of_work(runtime.sessions) as session:
        await upsert_companies(session, records)


def company(domain: str, name: str, **fields: Any) -> CompanyRecord:
    base: dict[str, Any] = {
        "domain": domain, "name": name, "website": f"https://www.{domain}", "description": None,
        "full_description": None, "country": None, "state": None, "city": None, "industries": (),
        "tags": (), "products": None, "founded_year": None, "employees": None, "employee_count": None,
        "revenue": None, "wikipedia_url": None, "linkedin_url": None, "status": None, "origin": "test",
    }
    base.update(fields)
    return CompanyRecord(**base)


async def wait_for_task(
    client: httpx.AsyncClient, token: str, task_id: str, *, statuses: tuple[str, ...] = ("done", "failed"),
    timeout: float = 30.0,
) -> dict[str, Any]:
    """Poll GET /v1/discovery_tasks/{id} as a client would, until the task reaches one of `statuses`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        response = await client.get(f"/v1/discovery_tasks/{task_id}", headers=auth(token))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if body["status"] in statuses:
            return body
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"task still {body['status']} after {timeout}s: {body}")
        await asyncio.sleep(0.05)
