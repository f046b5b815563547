"""Browser tests: Debian's Chromium (`apt install chromium`, which `make test` does), driven by Playwright for
Python pointed at that executable (never a browser download), against a real `firmscout serve`."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from tests.factories import cli_token, start_serve, stop

# The flags this machine's probe found Chromium needs as root with no outside network: without the
# background-networking ones it keeps dialling Google's hosts and its connections are refused.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]
LAPTOP = {"width": 1280, "height": 900}


def _chromium() -> str:
    path = os.environ.get("FIRMSCOUT_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        why = "Debian's chromium is not installed (make test installs it: apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(why)  # CI must run them: a skipped browser suite would pass silently
        pytest.skip(why)
    return path


@dataclass(frozen=True)
class App:
    base_url: str
    ana: str  # a token of ana@acme.example, organization Acme
    bo: str  # a token of bo@other.example, organization Other
    shots: Path | None  # where to save screenshots (FIRMSCOUT_SCREENSHOTS), None: nowhere

    def shot(self, page: Page, name: str, *, full_page: bool = True) -> None:
        if self.shots is not None:
            page.screenshot(path=str(self.shots / f"{name}.png"), full_page=full_page)


# Module-scoped, never session: sync Playwright keeps an event loop running in this thread until it stops,
# and every asyncio test after it would fail with "cannot be called from a running event loop".
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    _chromium()
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """`firmscout serve` on the embedded default (SQLite, the built-in companies, its worker in-process)."""
    env = {**os.environ, "FIRMSCOUT_DATA_DIR": str(tmp_path_factory.mktemp("serve")),
           "FIRMSCOUT_BOOTSTRAP_TOKEN": "false", "FIRMSCOUT_WORKER__POLL_INTERVAL_S": "0.05",
           "FIRMSCOUT_API__EVENTS_POLL_S": "0.2"}
    env.pop("FIRMSCOUT_DATABASE_URL", None)
    ana = cli_token(env, "ana@acme.example", "Acme")
    bo = cli_token(env, "bo@other.example", "Other")
    proc, base_url = start_serve(env)
    shots = Path(os.environ["FIRMSCOUT_SCREENSHOTS"]) if os.environ.get("FIRMSCOUT_SCREENSHOTS") else None
    try:
        yield App(base_url, ana, bo, shots)
    finally:
        stop(proc)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser profile (no cookies) at laptop width."""
    context = browser.new_context(viewport=LAPTOP, accept_downloads=True)
    context.set_default_timeout(30_000)
    page = context.new_page()
    yield page
    context.close()
