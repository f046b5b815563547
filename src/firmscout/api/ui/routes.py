"""The web app's pages: sign in, the task list, a new search, a task's live progress and results, exports.

Pages are rendered on the server; static/app.js only adds live updates and the criteria editor's buttons, so
every page also works without scripts. Every task read and write goes through the same task service, in the
signed-in caller's workspace, as the API's.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Header, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from firmscout import __version__
from firmscout.api.deps import runtime
from firmscout.api.routes.events import TaskFeed, stream
from firmscout.api.schemas import (
    DiscoveryTaskOut,
    DiscoveryTaskResult,
    DiscoveryTaskResults,
    Prices,
    ResumeDiscoveryTask,
)
from firmscout.api.ui import forms, session
from firmscout.api.ui.rendering import render
from firmscout.api.ui.results import RELEVANCE_FLOORS, SORTS, View, countries, rows, to_csv
from firmscout.errors import FirmscoutError, InvalidField, NotFound, Unauthorized
from firmscout.storage.views import TaskResults
from firmscout.tasks import accounts
from firmscout.tasks.explain import explain
from firmscout.tasks.shortfall import shortfall

router = APIRouter(include_in_schema=False)
PAGE = 50  # tasks a page of the task list shows
STOP_REASONS = {
    "target_reached": "It found the number of results asked for.",
    "exhausted": "Its sources had no more candidates.",
    "budget_exhausted": "A budget ran out (search requests, pages or tokens): find more goes on with the same "
                        "budgets again.",
    "source_failed": "A data source failed; find more tries it again.",
    "cancelled": "It was stopped.",
    "failed": "It failed.",
}


def _page(request: Request, template: str, signed: accounts.SignIn | None, status: int = 200, *,
          csrf: str | None = None, **context: Any) -> HTMLResponse:
    html = render(template, root=session.root(request), version=__version__, signed=signed,
                  csrf=csrf if csrf is not None else signed.csrf_token if signed else "", path=request.url.path,
                  **context)
    return HTMLResponse(html, status_code=status, headers=_PAGE_HEADERS)


# Pages and scripts from this server only: an injected script could neither run nor send data elsewhere.
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _to(request: Request, path: str) -> RedirectResponse:
    # 303: the browser follows a form post with a GET, so reloading the page it lands on posts nothing again.
    return RedirectResponse(session.root(request) + path, status_code=303)


def _to_signin(request: Request) -> RedirectResponse:
    return _to(request, "/signin?" + urlencode({"next": request.url.path}))


def _error(request: Request, signed: accounts.SignIn | None, status: int, title: str, message: str) -> HTMLResponse:
    return _page(request, "error.html", signed, status, title=title, message=message)


def _csrf_refused(request: Request, signed: accounts.SignIn | None) -> HTMLResponse:
    return _error(request, signed, 403, "Form expired",
                  "This form was not sent from this site's page, or the page is too old. Reload it and try again.")


def _not_found(request: Request, signed: accounts.SignIn) -> HTMLResponse:
    return _error(request, signed, 404, "Not found", "There is no such task in your workspace.")


async def _posted(request: Request, signed: accounts.SignIn) -> FormData | None:
    """The post's form when it carries this session's CSRF token; None otherwise."""
    form = await request.form()
    try:
        session.check_csrf(request, form.get(session.CSRF_FIELD), signed.csrf_token)
    except session.CsrfRejected:
        return None
    return form


async def _signed_post(request: Request) -> tuple[accounts.SignIn, FormData] | Response:
    """The session and form of a post sent from this site's page; otherwise the response to send instead."""
    signed = await session.current(request)
    if signed is None:
        return _to_signin(request)
    posted = await _posted(request, signed)
    if posted is None:
        return _csrf_refused(request, signed)
    return signed, posted


# --- signing in and out ---------------------------------------------------------------------------------------

@router.get("/")
async def home(request: Request) -> Response:
    return _to(request, "/tasks" if await session.current(request) else "/signin")


@router.get("/signin")
async def signin_page(request: Request, next: str = "/tasks") -> Response:
    if await session.current(request):
        return _to(request, _local(next))
    return _signin_form(request, _local(next), None)


def _signin_form(request: Request, next_path: str, error: str | None) -> HTMLResponse:
    csrf = session.signin_csrf(request)
    response = _page(request, "signin.html", None, 401 if error else 200, csrf=csrf, next=next_path, error=error)
    session.set_signin_csrf(request, response, csrf)
    return response


@router.post("/signin")
async def signin(request: Request) -> Response:
    form = await request.form()
    next_path = _local(str(form.get("next") or "/tasks"))
    try:
        session.check_csrf(request, form.get(session.CSRF_FIELD), request.cookies.get(session.SIGNIN_COOKIE))
    except session.CsrfRejected:
        return _csrf_refused(request, None)
    response = _to(request, next_path)
    try:
        await session.open_session(request, response, str(form.get("token") or ""))
    except Unauthorized:
        return _signin_form(request, next_path, "That token is not valid: it is unknown, revoked or expired. "
                                                "`firmscout token create` prints a new one.")
    return response


@router.post("/signout")
async def signout(request: Request) -> Response:
    signed = await session.current(request)
    if signed is not None and await _posted(request, signed) is None:
        return _csrf_refused(request, signed)
    response = _to(request, "/signin")
    await session.close_session(request, response)
    return response


def _local(path: str) -> str:
    """Only a path on this site may follow sign-in, never another host (an open redirect)."""
    return path if path.startswith("/") and not path.startswith("//") and "\\" not in path else "/tasks"


# --- the task list --------------------------------------------------------------------------------------------

@router.get("/tasks")
async def task_list(request: Request, offset: int = 0) -> Response:
    signed = await session.current(request)
    if signed is None:
        return _to_signin(request)
    offset = max(0, min(offset, 10_000_000))
    rows = await runtime(request).service.list(signed.caller, offset=offset, limit=PAGE + 1)
    prices = Prices.of(runtime(request).settings)
    tasks = [DiscoveryTaskOut.from_row(t, prices) for t in rows[:PAGE]]
    return _page(request, "tasks.html", signed, tasks=tasks, offset=offset, page=PAGE, more=len(rows) > PAGE)


# --- a new search ---------------------------------------------------------------------------------------------

@router.get("/tasks/new")
async def new_search_page(request: Request, exclude_task: str | None = None, query: str = "") -> Response:
    signed = await session.current(request)
    if signed is None:
        return _to_signin(request)
    form = forms.SearchForm(query=query[:2000], exclude_task_ids=[exclude_task] if exclude_task else [])
    return await _search_form(request, signed, form, {})


async def _search_form(request: Request, signed: accounts.SignIn, form: forms.SearchForm, errors: dict[str, str],
                       status: int = 200, plan: dict[str, Any] | None = None) -> HTMLResponse:
    rt = runtime(request)
    # Earlier tasks whose companies a search may skip: the API accepts only finished ones.
    recent = await rt.service.list(signed.caller, offset=0, limit=PAGE)
    done = [t for t in recent if t.status == "done" or t.id in form.exclude_task_ids]
    for task_id in set(form.exclude_task_ids) - {t.id for t in done}:  # ticked, older than the page shows
        with contextlib.suppress(NotFound):
            done.append(await rt.service.get(signed.caller, task_id))
    return _page(request, "new.html", signed, status, form=form, rows=form.renumbered(), errors=errors,
                 sources=list(rt.sources), done_tasks=done, plan=plan,
                 custom=any(not row.blank() for row in form.criteria))


@router.post("/tasks/new")
async def new_search(request: Request) -> Response:
    got = await _signed_post(request)
    if isinstance(got, Response):
        return got
    signed, posted = got
    form = forms.SearchForm.read(posted)
    action = str(posted.get("action") or "start")
    if action == "add_criterion":
        form.criteria.append(forms.CriterionRow())
        return await _search_form(request, signed, form, {})
    if action.startswith("remove_criterion:"):
        index = action.removeprefix("remove_criterion:")
        rows = [row for i, row in form.renumbered() if str(i) != index]
        form.criteria = rows
        return await _search_form(request, signed, form, {})
    if action in ("preview", "use_inferred"):
        if not form.query.strip():
            return await _search_form(request, signed, form, {"query": "Type a query to preview."}, 422)
        plan = await explain(form.query.strip(), runtime(request).settings)
        if action == "use_inferred":
            inferred = plan.get("llm", plan)["criteria"]
            form.criteria = [forms.CriterionRow(c["key"], c["name"], c["criterion"]) for c in inferred]
        return await _search_form(request, signed, form, {}, plan=plan)
    body, errors = form.validate()
    if body is None:
        return await _search_form(request, signed, form, errors, 422)
    try:
        task = await runtime(request).service.create(signed.caller, body.new_task(),
                                                      quota=request.app.state.create_quota)
    except InvalidField as exc:
        return await _search_form(request, signed, form, forms.errors_by_field([(exc.loc, exc.message)]), 422)
    except FirmscoutError as exc:
        return await _search_form(request, signed, form, {"": exc.message}, exc.status_code)
    return _to(request, f"/tasks/{task.id}")


# --- a task: progress, results, stop, find more, export --------------------------------------------------------

@dataclass(frozen=True)
class _Shown:
    """A task and its results as the request's view narrows and orders them."""

    found: TaskResults
    task: DiscoveryTaskOut
    results: list[DiscoveryTaskResult]  # all of them
    view: View
    shown: list[DiscoveryTaskResult]


async def _shown(request: Request, caller: accounts.Caller, task_id: str) -> _Shown:
    rt = runtime(request)
    found = await rt.service.all_results(caller, task_id)
    task = DiscoveryTaskOut.from_row(found.task, Prices.of(rt.settings))
    results = [DiscoveryTaskResult.from_row(r) for r in found.results]
    view = View.read(request.query_params, task.criteria)
    return _Shown(found, task, results, view, view.apply(results))


async def _task_context(request: Request, caller: accounts.Caller, task_id: str) -> dict[str, Any]:
    got = await _shown(request, caller, task_id)
    task, results, view, shown = got.task, got.results, got.view, got.shown
    finished = task.status in ("done", "failed")
    why = shortfall(got.found.task, await runtime(request).service.plan(caller, task_id)) if finished else None
    return {
        "task": task, "results": shown, "rows": rows(shown, task.criteria), "total": len(results), "view": view,
        "view_qs": urlencode(view.query_string()), "sorts": SORTS, "floors": RELEVANCE_FLOORS,
        "countries": countries(results),
        "running": not finished, "reason": STOP_REASONS.get(task.stop_reason or ""), "why": why, "notice": None,
    }


@router.get("/tasks/{task_id}")
async def task_page(request: Request, task_id: str) -> Response:
    signed = await session.current(request)
    if signed is None:
        return _to_signin(request)
    try:
        context = await _task_context(request, signed.caller, task_id)
    except NotFound:
        return _not_found(request, signed)
    return _page(request, "task.html", signed, **context)


@router.get("/tasks/{task_id}/live")
async def task_live(request: Request, task_id: str) -> Response:
    """The page's progress and results, for the script that refreshes them on each event."""
    signed = await session.current(request)
    if signed is None:
        return Response(status_code=401)
    try:
        context = await _task_context(request, signed.caller, task_id)
    except NotFound:
        return Response(status_code=404)
    return _page(request, "live.html", signed, **context)


@router.get("/tasks/{task_id}/events")
async def task_events(request: Request, task_id: str,
                      last_event_id: Annotated[str | None, Header()] = None) -> Response:
    """The API's event stream of the task, signed in by the session cookie (EventSource sends no header)."""
    signed = await session.current(request)
    if signed is None:
        return Response(status_code=401)
    rt = runtime(request)
    feed = TaskFeed(rt.service, signed.caller, task_id, Prices.of(rt.settings))
    try:
        return await stream(feed, last_event_id, rt.settings.api.events_poll_s)
    except NotFound:
        return Response(status_code=404)


async def _task_action(request: Request, task_id: str, act: str) -> Response:
    got = await _signed_post(request)
    if isinstance(got, Response):
        return got
    signed, posted = got
    service = runtime(request).service
    try:
        if act == "cancel":
            await service.cancel(signed.caller, task_id)
        else:
            raw = str(posted.get("desired_new_results") or "25").strip()
            try:
                more = ResumeDiscoveryTask(desired_new_results=int(raw) if raw.isdigit() else -1)
            except ValidationError:
                return await _task_notice(request, signed, task_id, 422,
                                          "Find more: give a whole number of new results from 0 to 250.")
            await service.resume(signed.caller, task_id, more.desired_new_results)
    except NotFound:
        return _not_found(request, signed)
    except FirmscoutError as exc:
        return await _task_notice(request, signed, task_id, exc.status_code, exc.message)
    return _to(request, f"/tasks/{task_id}")


async def _task_notice(request: Request, signed: accounts.SignIn, task_id: str, status: int,
                       notice: str) -> HTMLResponse:
    context = await _task_context(request, signed.caller, task_id)
    context["notice"] = notice
    return _page(request, "task.html", signed, status, **context)


@router.post("/tasks/{task_id}/cancel")
async def cancel_task(request: Request, task_id: str) -> Response:
    return await _task_action(request, task_id, "cancel")


@router.post("/tasks/{task_id}/resume")
async def resume_task(request: Request, task_id: str) -> Response:
    return await _task_action(request, task_id, "resume")


@router.get("/tasks/{task_id}/export.{kind}")
async def export(request: Request, task_id: str, kind: str) -> Response:
    """The results as shown (the page's filter and order), as CSV or as the API's results JSON."""
    signed = await session.current(request)
    if signed is None:
        return _to_signin(request)
    if kind not in ("csv", "json"):
        return _not_found(request, signed)
    try:
        got = await _shown(request, signed.caller, task_id)
    except NotFound:
        return _not_found(request, signed)
    task = got.task
    name = f"firmscout-{task.id[:8]}.{kind}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    if kind == "csv":
        return Response(to_csv(got.shown, task.criteria), media_type="text/csv; charset=utf-8", headers=headers)
    body = DiscoveryTaskResults(**task.model_dump(), results=got.shown)
    return Response(json.dumps(body.model_dump(mode="json"), ensure_ascii=False, indent=2),
                    media_type="application/json", headers=headers)
