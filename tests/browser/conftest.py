"""Real Chromium (Debian's package) driven by playwright against pytest-django's live server.

Outside CI a missing browser skips these tests with a loud message; in CI
(CI=true) it is a failure. ``make test`` tries to install Chromium first.

Waiting: every wait is explicit (``expect(...)`` on what the person would see, or
``wait_for_load_state``), never a sleep, and one timeout governs them all:
``BROWSER_TIMEOUT_MS`` below, for playwright's actions and navigations and for
``expect()``. Why so long: an htmx action on the release page (promoting, for one)
answers the whole page region re-rendered with every app's section, about 65
queries and the checklist's template, which takes 0.7 s on an idle machine and
well over 5 s (playwright's default) when the two cores are shared by parallel runs.
"""

from __future__ import annotations

import os
import shutil
import warnings

import pytest
from playwright.sync_api import expect

# The one timeout of the browser tests (milliseconds): actions, navigations and expect().
BROWSER_TIMEOUT_MS = 20_000
expect.set_options(timeout=BROWSER_TIMEOUT_MS)

# The two screens every layout test uses: a laptop and a phone.
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def _chromium_path() -> str | None:
    explicit = os.environ.get("SHIPCHECK_CHROMIUM")
    if explicit and os.path.exists(explicit):
        return explicit
    for candidate in CHROMIUM_CANDIDATES:
        if os.path.exists(candidate):
            return candidate
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def chromium():
    path = _chromium_path()
    if path is None:
        message = "Chromium not found: browser tests cannot run (apt-get install chromium)."
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        warnings.warn(message, stacklevel=1)
        pytest.skip("!!! " + message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_context(chromium, live_server):
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1360, "height": 900}
    )
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def login_as(browser_context, live_server):
    """``page = login_as(user)``: a fresh page logged in through the real login form.

    Every test user's password is "pass" (tests/factories.py). Each call opens a
    new browser context, so two people can work side by side.
    """
    contexts = []

    def _login(user, password: str = "pass"):
        context = (
            browser_context
            if not contexts
            else browser_context.browser.new_context(
                base_url=live_server.url, viewport={"width": 1360, "height": 900}
            )
        )
        context.set_default_timeout(BROWSER_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.goto("/login/")
        page.fill("input[name=username]", user.username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        return page

    yield _login
    for context in contexts[1:]:
        context.close()


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
