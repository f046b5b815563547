"""The web app at `/`, over HTTP as a browser without scripts uses it: sign in with a token for a session cookie,
forms with CSRF tokens, a new search validated as the API validates, a task's results, exports, isolation."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from firmscout.storage.db import unit_of_work
from firmscout.storage.tables import DiscoveryTask
from firmscout.tasks import accounts
from firmscout.tasks.runtime import Runtime
from tests.api.companies import ALL
from tests.factories import auth, create_companies, create_token, wait_for_task

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _csrf(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "every form carries a CSRF token"
    return found[1]


async def _sign_in(client: httpx.AsyncClient, token: str) -> str:
    """Sign in as a browser does; the CSRF token of the session's pages."""
    form = await client.get("/signin")
    response = await client.post("/signin", data={"token": token, "csrf_token": _csrf(form.text), "next": "/tasks"})
    assert response.status_code == 303, response.text
    page = await client.get("/tasks")
    assert page.status_code == 200
    return _csrf(page.text)


async def _start(client: httpx.AsyncClient, csrf: str, **fields: Any) -> httpx.Response:
    """Post the new-search form; a field given as None is left out (an unticked box)."""
    data = {"csrf_token": csrf, "action": "start", "desired_num_results": "5", "auto_data_sources": "true"} | fields
    return await client.post("/tasks/new", data={k: v for k, v in data.items() if v is not None})


def _task_id(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    return response.headers["location"].rsplit("/", 1)[-1]


async def _finished_search(client: httpx.AsyncClient, runtime: Runtime) -> tuple[str, dict[str, Any]]:
    """Signed in, "banks in Spain" started from the form and run to its end: (the token, the task)."""
    await create_companies(runtime, ALL)
    token = await create_token(runtime)
    csrf = await _sign_in(client, token)
    task_id = _task_id(await _start(client, csrf, query="banks in Spain"))
    return token, await wait_for_task(client, token, task_id)


def _errors(html: str) -> dict[str, str]:
    return dict(re.findall(r'<p class="error field-error" id="([^"]+)-error">([^<]*)</p>', html))


class TestSignIn:
    async def test_a_token_becomes_an_httponly_samesite_session_cookie(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        token = await create_token(runtime, email="ana@example.com", org="Acme")
        home = await client.get("/")
        assert (home.status_code, home.headers["location"]) == (303, "/signin")
        form = await client.get("/signin")
        assert 'data-testid="token-input"' in form.text and 'type="password"' in form.text
        response = await client.post("/signin", data={"token": token, "csrf_token": _csrf(form.text)})
        assert (response.status_code, response.headers["location"]) == (303, "/tasks")
        cookie = response.headers["set-cookie"]
        assert "firmscout_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert token not in cookie and token not in response.headers["location"]
        page = await client.get("/tasks")
        assert "ana@example.com" in page.text and "Acme" in page.text
        assert 'data-testid="task-list"' in page.text and 'data-testid="sign-out"' in page.text

    async def test_a_wrong_token_is_refused_with_no_session(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        form = await client.get("/signin")
        response = await client.post("/signin", data={"token": "fs_wrong", "csrf_token": _csrf(form.text)})
        assert response.status_code == 401
        assert "not valid" in response.text and "fs_wrong" not in response.text
        assert "firmscout_session" not in client.cookies
        assert (await client.get("/tasks")).status_code == 303

    async def test_sign_in_without_the_form_s_csrf_value_is_refused(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        token = await create_token(runtime)
        await client.get("/signin")
        response = await client.post("/signin", data={"token": token, "csrf_token": "forged"})
        assert response.status_code == 403
        assert "firmscout_session" not in client.cookies

    async def test_sign_out_ends_the_session_on_the_server(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        csrf = await _sign_in(client, await create_token(runtime))
        secret = client.cookies["firmscout_session"]
        response = await client.post("/signout", data={"csrf_token": csrf})
        assert (response.status_code, response.headers["location"]) == (303, "/signin")
        assert (await client.get("/tasks")).status_code == 303
        client.cookies.set("firmscout_session", secret)  # a copy of the old cookie opens nothing
        assert (await client.get("/tasks")).headers["location"] == "/signin?next=%2Ftasks"

    async def test_revoking_the_token_signs_its_browsers_out(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        await _sign_in(client, await create_token(runtime))
        [info] = await accounts.list_tokens(runtime.sessions)
        await accounts.revoke_token(runtime.sessions, info.id)
        assert (await client.get("/tasks")).status_code == 303

    async def test_sign_in_goes_back_only_to_a_page_of_this_site(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        token = await create_token(runtime)
        form = await client.get("/signin", params={"next": "//evil.example/x"})
        response = await client.post("/signin", data={"token": token, "csrf_token": _csrf(form.text),
                                                      "next": "//evil.example/x"})
        assert response.headers["location"] == "/tasks"


class TestForms:
    async def test_a_post_without_the_session_s_csrf_token_changes_nothing(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        await _sign_in(client, await create_token(runtime))
        refused = await _start(client, "forged", query="banks in Spain")
        assert refused.status_code == 403
        assert "firmscout_session" in client.cookies
        listed = await client.get("/tasks")
        assert "No searches yet" in listed.text

    async def test_a_post_from_another_site_is_refused_even_with_the_token(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        csrf = await _sign_in(client, await create_token(runtime))
        data = {"csrf_token": csrf, "action": "start", "query": "banks in Spain"}
        refused = await client.post("/tasks/new", data=data, headers={"Origin": "https://evil.example"})
        assert refused.status_code == 403

    async def test_the_form_is_validated_as_the_api_validates_each_error_at_its_field(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        csrf = await _sign_in(client, await create_token(runtime))
        response = await _start(client, csrf, query="", desired_num_results="0", **{
            "criteria-0-name": "Sells to banks", "criteria-0-criterion": "short",
            "exclude_domains": "not a domain"})
        assert response.status_code == 422
        errors = _errors(response.text)
        assert set(errors) >= {"query", "desired_num_results", "criteria-0-criterion"}
        assert "at least 10 characters" in errors["criteria-0-criterion"]
        assert 'value="Sells to banks"' in response.text, "what was typed comes back"

        # Checks that need the server (sources it has, the domain's public suffix) mark their field too.
        sources = await _start(client, csrf, query="banks in Spain", auto_data_sources=None, data_sources="maps")
        assert "not configured on this server" in _errors(sources.text)["data_sources"]
        domains = await _start(client, csrf, query="banks in Spain", exclude_domains="acme.com nodot")
        assert "public suffix" in _errors(domains.text)["exclude_domains"]

    async def test_repeated_criterion_keys_are_refused(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        csrf = await _sign_in(client, await create_token(runtime))
        row = {"name": "Bank", "criterion": "The company is a licensed bank."}
        fields = {f"criteria-{i}-{k}": v for i in (0, 1) for k, v in row.items()}
        response = await _start(client, csrf, query="banks in Spain", **fields)
        assert response.status_code == 422
        assert "criterion keys must be unique" in response.text

    async def test_criteria_rows_are_added_and_removed_without_scripts(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        csrf = await _sign_in(client, await create_token(runtime))
        added = await client.post("/tasks/new", data={"csrf_token": csrf, "action": "add_criterion",
                                                      "query": "banks", "criteria-0-name": "First"})
        assert 'name="criteria-1-name"' in added.text and 'value="First"' in added.text
        removed = await client.post("/tasks/new", data={"csrf_token": csrf, "action": "remove_criterion:0",
                                                        "criteria-0-name": "First", "criteria-1-name": "Second"})
        assert 'value="Second"' in removed.text and 'value="First"' not in removed.text

    async def test_preview_shows_how_the_query_is_understood_and_can_fill_the_editor(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        csrf = await _sign_in(client, await create_token(runtime))
        preview = await client.post("/tasks/new", data={"csrf_token": csrf, "action": "preview",
                                                        "query": "banks in Spain"})
        assert preview.status_code == 200 and 'data-testid="plan"' in preview.text
        assert "Spain" in preview.text
        filled = await client.post("/tasks/new", data={"csrf_token": csrf, "action": "use_inferred",
                                                       "query": "banks in Spain"})
        assert 'name="criteria-0-criterion"' in filled.text and "Spain" in filled.text


class TestTaskPages:
    async def test_a_search_runs_and_its_results_show_grades_explanations_and_sources(
        self, client: httpx.AsyncClient, runtime: Runtime, worker: None
    ) -> None:
        token, task = await _finished_search(client, runtime)
        task_id = task["id"]
        page = await client.get(f"/tasks/{task_id}")
        assert page.status_code == 200
        assert re.search(r'data-testid="task-status">done<', page.text)
        rows = page.text.count('data-testid="result-row"')
        assert rows == task["num_results"] >= 3
        assert page.text.count('data-testid="grade"') == rows * len(task["criteria"])
        results = (await client.get(f"/v1/discovery_tasks/{task_id}/results", headers=auth(token))).json()["results"]
        first = results[0]
        score = next(iter(first["scores"].values()))
        assert first["company_name"] in page.text
        assert score["explanation"].replace("'", "&#39;").replace('"', "&#34;") in page.text
        assert all(f'href="{url}"' in page.text for url in score["sources"])
        assert 'data-testid="export-csv"' in page.text
        # Find more resumes a task whose sources may have more; an exhausted one offers a new search instead.
        assert ('data-testid="find-more"' in page.text) is not task["is_exhausted"]

    async def test_results_filter_and_sort_and_the_export_follows_them(
        self, client: httpx.AsyncClient, runtime: Runtime, worker: None
    ) -> None:
        token, task = await _finished_search(client, runtime)
        task_id = task["id"]
        by_name = await client.get(f"/tasks/{task_id}", params={"sort": "name"})
        names = re.findall(r'<span class="name">([^<]+)</span>', by_name.text)
        assert names == sorted(names, key=str.casefold) and len(names) == task["num_results"]
        narrowed = await client.get(f"/tasks/{task_id}", params={"q": "bankinter"})
        assert narrowed.text.count('data-testid="result-row"') == 1

        exported = await client.get(f"/tasks/{task_id}/export.csv", params={"sort": "name"})
        assert exported.headers["content-disposition"].startswith("attachment")
        table = list(csv.DictReader(io.StringIO(exported.text)))
        assert [r["company_name"] for r in table] == names
        keys = [c["key"] for c in task["criteria"]]
        assert all(f"{k}_grade" in table[0] and f"{k}_sources" in table[0] for k in keys)
        assert all(r[f"{keys[0]}_grade"] in "12345" for r in table)
        as_json = json.loads((await client.get(f"/tasks/{task_id}/export.json")).text)
        api = (await client.get(f"/v1/discovery_tasks/{task_id}/results", params={"limit": 250},
                                headers=auth(token))).json()
        assert as_json["results"] == api["results"], "the JSON export is the API's results"

    async def test_stop_and_find_more(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        await create_companies(runtime, ALL)
        token = await create_token(runtime)
        csrf = await _sign_in(client, token)
        task_id = _task_id(await _start(client, csrf, query="banks in Spain"))
        running = await client.get(f"/tasks/{task_id}")
        assert 'data-testid="stop"' in running.text and "data-running" in running.text
        stopped = await client.post(f"/tasks/{task_id}/cancel", data={"csrf_token": csrf})
        assert stopped.status_code == 303
        task = (await client.get(f"/v1/discovery_tasks/{task_id}", headers=auth(token))).json()
        assert (task["status"], task["stop_reason"]) == ("done", "cancelled")
        page = await client.get(f"/tasks/{task_id}")
        assert 'data-testid="find-more"' in page.text and "It was stopped." in page.text

        more = await client.post(f"/tasks/{task_id}/resume", data={"csrf_token": csrf, "desired_new_results": "3"})
        assert more.status_code == 303
        task = (await client.get(f"/v1/discovery_tasks/{task_id}", headers=auth(token))).json()
        assert (task["status"], task["desired_num_results"]) == ("in_progress", 8)
        bad = await client.post(f"/tasks/{task_id}/resume", data={"csrf_token": csrf, "desired_new_results": "x"})
        assert bad.status_code == 422 and "whole number" in bad.text

    async def test_a_failed_task_shows_its_error_in_the_list(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        csrf = await _sign_in(client, await create_token(runtime))
        task_id = _task_id(await _start(client, csrf, query="banks in Spain"))
        async with unit_of_work(runtime.sessions) as session:
            await session.execute(update(DiscoveryTask).where(DiscoveryTask.id == task_id)
                                  .values(status="failed", stop_reason="failed", error="The grader crashed."))
        listed = await client.get("/tasks")
        assert "banks in Spain" in listed.text and "The grader crashed." in listed.text
        page = await client.get(f"/tasks/{task_id}")
        assert 'data-testid="task-error">The grader crashed.' in page.text

    async def test_the_page_streams_the_task_s_events_with_its_cookie(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        token = await create_token(runtime)
        csrf = await _sign_in(client, token)
        task_id = _task_id(await _start(client, csrf, query="banks in Spain"))
        await client.post(f"/tasks/{task_id}/cancel", data={"csrf_token": csrf})
        async with client.stream("GET", f"/tasks/{task_id}/events") as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            body = "".join([chunk async for chunk in response.aiter_text()])
        assert body.startswith("id: 0.1\nevent: status\n") and "event: end" in body
        client.cookies.clear()
        assert (await client.get(f"/tasks/{task_id}/events")).status_code == 401


class TestIsolationAndEdges:
    async def test_another_organization_sees_none_of_the_tasks(
        self, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        csrf = await _sign_in(client, await create_token(runtime, email="ana@acme.example", org="Acme"))
        task_id = _task_id(await _start(client, csrf, query="banks in Spain"))
        client.cookies.clear()
        await _sign_in(client, await create_token(runtime, email="bo@other.example", org="Other"))
        listed = await client.get("/tasks")
        assert task_id not in listed.text and "banks in Spain" not in listed.text
        for path in (f"/tasks/{task_id}", f"/tasks/{task_id}/export.csv", f"/tasks/{task_id}/export.json"):
            assert (await client.get(path)).status_code == 404, path

    async def test_pages_load_nothing_from_another_host(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        pages = [await client.get("/signin")]
        await _sign_in(client, await create_token(runtime))
        pages += [await client.get("/tasks"), await client.get("/tasks/new")]
        for page in pages:
            path = page.url.path
            assert page.headers["content-security-policy"].startswith("default-src 'self'")
            assert not re.search(r'(src|href)="(https?:)?//', page.text), path
        for asset in ("/static/app.css", "/static/app.js"):
            assert (await client.get(asset)).status_code == 200

    @pytest.mark.parametrize("path", ["/tasks", "/tasks/new", "/tasks/00000000-0000-4000-8000-000000000000"])
    async def test_pages_ask_to_sign_in_first(self, client: httpx.AsyncClient, path: str) -> None:
        response = await client.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/signin?next=")


async def test_a_finished_task_offers_a_new_search_that_skips_its_companies(
    client: httpx.AsyncClient, runtime: Runtime, worker: None
) -> None:
    _, task = await _finished_search(client, runtime)
    task_id = task["id"]
    page = await client.get(f"/tasks/{task_id}")
    link = re.search(r'href="(/tasks/new\?exclude_task=[^"]+)"', page.text)
    assert link is not None
    form = await client.get(link[1].replace("&amp;", "&"))
    assert re.search(rf'name="exclude_task_ids" value="{task_id}" checked', form.text)
    assert ">banks in Spain</textarea>" in form.text
