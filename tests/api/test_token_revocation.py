"""A revoked or expired token is refused like an unknown one; revocation waits at most for the auth cache."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI

from firmscout.api.app import create_app
from firmscout.config import Settings
from firmscout.tasks import accounts
from firmscout.tasks.runtime import Runtime, open_runtime
from tests.factories import auth


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://firmscout.test") as c:
        yield c


async def unknown_token_answer(client: httpx.AsyncClient) -> httpx.Response:
    return await client.get("/v1/user", headers=auth("fs_not-a-real-token"))


def refused_as_unknown(response: httpx.Response, unknown: httpx.Response) -> bool:
    return (response.status_code == 401 and response.json() == unknown.json()
            and response.headers["www-authenticate"] == unknown.headers["www-authenticate"])


def token_id(token: str) -> str:
    return accounts.hash_token(token)[: accounts.TOKEN_ID_CHARS]


class TestRevoked:
    async def test_refused_once_the_cache_entry_is_gone(self, runtime: Runtime) -> None:
        token = await accounts.create_token(runtime.sessions, email="ana@acme.com", org_name="Acme")
        app = create_app(runtime)  # the default cache: FIRMSCOUT_API__AUTH_CACHE_S, 30 s
        async with serving(app) as client:
            assert (await client.get("/v1/user", headers=auth(token))).status_code == 200
            await accounts.revoke_token(runtime.sessions, token_id(token))
            # The documented delay: this process checked the token a moment ago and still trusts it.
            assert (await client.get("/v1/user", headers=auth(token))).status_code == 200
            app.state.caller_cache = accounts.CallerCache()  # the entry gone, as after 30 s or in a new process
            response = await client.get("/v1/user", headers=auth(token))
            assert refused_as_unknown(response, await unknown_token_answer(client))

    async def test_refused_at_once_without_a_cache(self, settings: Settings) -> None:
        no_cache = settings.model_copy(update={"api": settings.api.model_copy(update={"auth_cache_s": 0.0})})
        async with open_runtime(no_cache) as runtime, serving(create_app(runtime)) as client:
            token = await accounts.create_token(runtime.sessions, email="ana@acme.com", org_name=None)
            assert (await client.get("/v1/discovery_tasks", headers=auth(token))).status_code == 200
            revoked = await accounts.revoke_token(runtime.sessions, token_id(token))
            assert not revoked.already and revoked.token.status == "revoked"
            response = await client.get("/v1/discovery_tasks", headers=auth(token))
            assert refused_as_unknown(response, await unknown_token_answer(client))

    async def test_other_tokens_of_the_user_keep_working(self, runtime: Runtime) -> None:
        old = await accounts.create_token(runtime.sessions, email="ana@acme.com", org_name="Acme")
        new = await accounts.create_token(runtime.sessions, email="ana@acme.com", org_name="Acme")
        await accounts.revoke_token(runtime.sessions, token_id(old))
        async with serving(create_app(runtime)) as client:
            assert (await client.get("/v1/user", headers=auth(old))).status_code == 401
            assert (await client.get("/v1/user", headers=auth(new))).json()["email"] == "ana@acme.com"


class TestExpired:
    async def test_refused_even_while_cached(self, runtime: Runtime) -> None:
        expires_at = datetime.now(UTC) + timedelta(seconds=1.5)
        token = await accounts.create_token(runtime.sessions, email="ana@acme.com", org_name="Acme",
                                            expires_at=expires_at)
        app = create_app(runtime)  # a 30 s cache: longer than the token has left
        async with serving(app) as client:
            assert (await client.get("/v1/user", headers=auth(token))).status_code == 200
            assert app.state.caller_cache.get(accounts.hash_token(token)) is not None, "the token is cached"
            await asyncio.sleep((expires_at - datetime.now(UTC)).total_seconds() + 0.1)
            response = await client.get("/v1/user", headers=auth(token))
            assert refused_as_unknown(response, await unknown_token_answer(client))

    async def test_a_token_with_time_left_works(self, runtime: Runtime) -> None:
        token = await accounts.create_token(runtime.sessions, email="ana@acme.com", org_name="Acme",
                                            expires_at=datetime.now(UTC) + timedelta(days=1))
        async with serving(create_app(runtime)) as client:
            assert (await client.get("/v1/user", headers=auth(token))).status_code == 200
