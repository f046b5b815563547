"""The web app in a real browser: what a person does with it, from signing in to exporting a list."""

from __future__ import annotations

import csv
import re

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import App

pytestmark = pytest.mark.slow
TASK_URL = re.compile(r"/tasks/[0-9a-f-]{36}$")


def sign_in(page: Page, app: App, token: str) -> None:
    page.goto(app.base_url + "/")
    page.get_by_test_id("token-input").fill(token)
    page.get_by_test_id("sign-in").click()
    expect(page.get_by_test_id("task-list")).to_be_visible()


def start_search(page: Page, app: App, query: str, results: int) -> None:
    page.goto(app.base_url + "/tasks/new")
    page.get_by_test_id("query-input").fill(query)
    page.get_by_test_id("desired-results").fill(str(results))
    page.get_by_test_id("start-search").click()
    expect(page).to_have_url(TASK_URL)


def test_sign_in_search_watch_it_finish_read_a_grade_find_more_export_and_sign_out(page: Page, app: App) -> None:
    sign_in(page, app, app.ana)
    expect(page.get_by_test_id("signed-in-as")).to_have_text("ana@acme.example · Acme")

    start_search(page, app, "software companies in Germany", 3)
    # A marker on this document: still there at the end means the page followed the task without a reload.
    page.evaluate("window.followedLive = true")
    expect(page.get_by_test_id("task-status")).to_have_text("done", timeout=60_000)
    rows = page.get_by_test_id("result-row")
    expect(rows).to_have_count(3)
    assert page.evaluate("window.followedLive === true"), "progress and results arrived on the open page"

    first = rows.first
    criteria = first.get_by_test_id("grade").count()
    assert criteria >= 1
    grades = first.get_by_test_id("grade").all_inner_texts()
    assert all(re.fullmatch(r".+:\s+[1-5]", g.strip()) for g in grades), grades
    first.locator("summary").click()
    explanation = first.get_by_test_id("explanation").first
    expect(explanation).to_be_visible()
    assert len(explanation.inner_text()) > 20
    source = first.get_by_test_id("source").first
    expect(source).to_be_visible()
    assert source.get_attribute("href", timeout=1000).startswith(("http://", "https://"))  # type: ignore[union-attr]
    app.shot(page, "task")

    page.get_by_label("New results").fill("2")
    page.get_by_test_id("find-more").click()
    expect(page.get_by_test_id("task-status")).to_have_text("done", timeout=60_000)
    expect(rows).to_have_count(5, timeout=30_000)
    names = page.locator("[data-testid=result-row] .name").all_inner_texts()

    with page.expect_download() as download:
        page.get_by_test_id("export-csv").click()
    path = download.value.path()
    with open(path, newline="", encoding="utf-8") as f:
        exported = list(csv.DictReader(f))
    assert [r["company_name"] for r in exported] == names
    assert all(r["company_website"] and r["relevance"] for r in exported)

    page.get_by_test_id("sign-out").click()
    expect(page.get_by_test_id("token-input")).to_be_visible()
    page.goto(app.base_url + "/tasks")
    expect(page.get_by_test_id("token-input")).to_be_visible()


def test_a_wrong_token_is_refused(page: Page, app: App) -> None:
    page.goto(app.base_url + "/")
    page.get_by_test_id("token-input").fill("fs_not-a-real-token")
    page.get_by_test_id("sign-in").click()
    expect(page.get_by_test_id("sign-in-error")).to_contain_text("not valid")
    expect(page.get_by_test_id("token-input")).to_have_attribute("aria-invalid", "true")
    assert not [c for c in page.context.cookies() if c["name"] == "firmscout_session"]


def test_a_second_organization_sees_none_of_the_first_s_tasks(browser: Browser, page: Page, app: App) -> None:
    created = httpx.post(f"{app.base_url}/v1/discovery_tasks", json={"query": "banks in Spain",
                                                                      "desired_num_results": 2},
                         headers={"Authorization": f"Bearer {app.ana}"}).raise_for_status().json()
    sign_in(page, app, app.ana)
    expect(page.get_by_test_id("task-list")).to_contain_text("banks in Spain")

    other = browser.new_context()
    try:
        bo = other.new_page()
        sign_in(bo, app, app.bo)
        expect(bo.get_by_test_id("signed-in-as")).to_contain_text("Other")
        expect(bo.get_by_test_id("task-list")).not_to_contain_text("banks in Spain")
        response = bo.goto(f"{app.base_url}/tasks/{created['id']}")
        assert response is not None and response.status == 404
    finally:
        other.close()


def test_new_search_form_edits_criteria_in_place_previews_and_marks_errors(page: Page, app: App) -> None:
    sign_in(page, app, app.ana)
    page.goto(app.base_url + "/tasks/new")
    page.evaluate("window.samePage = true")
    add = page.get_by_role("button", name="Add criterion")
    add.click()
    add.click()
    expect(page.locator("[data-criterion]")).to_have_count(2)
    page.get_by_role("button", name="Remove criterion").last.click()
    expect(page.locator("[data-criterion]")).to_have_count(1)
    assert page.evaluate("window.samePage === true"), "the editor's buttons work in place"

    page.get_by_test_id("query-input").fill("banks in Spain")
    page.get_by_test_id("preview").click()
    plan = page.get_by_test_id("plan")
    expect(plan).to_contain_text("Spain")
    app.shot(page, "new-search")

    page.get_by_label("Name").first.fill("Retail bank")
    page.get_by_label("What it means").first.fill("short")
    page.get_by_test_id("start-search").click()
    criterion = page.get_by_label("What it means").first
    expect(criterion).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#criteria-0-criterion-error")).to_contain_text("at least 10 characters")
    expect(page.get_by_label("Name").first).to_have_value("Retail bank")


def test_every_input_has_a_label_and_sign_in_works_by_keyboard(page: Page, app: App) -> None:
    page.goto(app.base_url + "/")
    app.shot(page, "sign-in", full_page=False)
    expect(page.get_by_test_id("token-input")).to_be_focused()  # the token field has focus on load
    page.keyboard.type(app.ana)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("task-list")).to_be_visible()
    page.goto(app.base_url + "/tasks/new")
    unlabelled = page.locator("input:not([type=hidden]), select, textarea").evaluate_all(
        "els => els.filter(e => !e.closest('template') && !e.labels.length && !e.getAttribute('aria-label'))"
        ".map(e => e.name)")
    assert unlabelled == []


def test_the_task_page_fits_a_phone(browser: Browser, app: App) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        phone = context.new_page()
        sign_in(phone, app, app.ana)
        start_search(phone, app, "banks in Spain", 3)
        expect(phone.get_by_test_id("task-status")).to_have_text("done", timeout=60_000)
        expect(phone.get_by_test_id("result-row").first).to_be_visible()
        overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page scrolls sideways by {overflow}px"
        app.shot(phone, "phone", full_page=False)
    finally:
        context.close()
