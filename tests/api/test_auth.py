"""Spec §6.1: bearer tokens on every endpoint but the healthcheck; /v1/user describes the caller."""

from __future__ import annotations

import httpx

from firmscout.tasks.runtime import Runtime
from tests.factories import auth, create_token


class TestBearerAuth:
    async def test_missing_header_is_401(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v1/discovery_tasks")
        assert response.status_code == 401
        assert isinstance(response.json()["detail"], str)
        assert response.headers["www-authenticate"] == "Bearer"

    async def test_token_without_bearer_prefix_is_401(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        token = await create_token(runtime)
        response = await client.get("/v1/discovery_tasks", headers={"Authorization": token})
        assert response.status_code == 401

    async def test_unknown_token_is_401(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        await create_token(runtime)
        response = await client.get("/v1/user", headers=auth("fs_not-a-real-token"))
        assert response.status_code == 401

    async def test_healthcheck_needs_no_token(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v1/healthcheck")
        assert response.status_code == 200
        assert response.json()["status"] == "ok"


class TestUser:
    async def test_user_describes_token_owner_and_org(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        token = await create_token(runtime, email="Ana@Example.com", org="Acme Corp")
        body = (await client.get("/v1/user", headers=auth(token))).json()
        assert body["email"] == "ana@example.com"
        assert body["organization_name"] == "Acme Corp"
        assert body["organization_slug"] == "acme-corp"
        assert body["organization_is_active"] is True
        assert set(body) == {"user_id", "email", "available_credits", "organization_id", "organization_name",
                             "organization_slug", "organization_is_active"}

    async def test_token_is_stored_only_as_hash(self, runtime: Runtime) -> None:
        from sqlalchemy import select

        from firmscout.storage.tables import ApiToken

        token = await create_token(runtime)
        async with runtime.sessions() as session:
            stored = (await session.scalars(select(ApiToken))).one()
        assert token not in (stored.token_hash, stored.prefix * 2)
        assert len(stored.token_hash) == 64 and stored.token_hash != token


class TestOpenAPI:
    async def test_openapi_and_docs_are_served(self, client: httpx.AsyncClient) -> None:
        spec = (await client.get("/openapi.json")).json()
        assert "/v1/discovery_tasks" in spec["paths"]
        assert "/v1/discovery_tasks/{task_id}/resume" in spec["paths"]
        assert (await client.get("/docs")).status_code == 200
