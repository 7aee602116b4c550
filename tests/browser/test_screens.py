"""The demo as each person sees it, at 1366x900 and on a 390-pixel phone, in real Chromium.

Every action button lies inside the viewport, no page scrolls sideways on a phone, the
navigation reaches every section, the grid shows the live versions, the urgent banner
carries its action, the navigation's count agrees with *Waiting for me*, and axe-core finds
no serious or critical accessibility violation on the main pages for any demo person.
"""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from playwright.sync_api import expect

from releases.models import Release
from tests.browser.conftest import BROWSER_TIMEOUT_MS, DESKTOP, PHONE

pytestmark = pytest.mark.django_db(transaction=True)

PERSONAS = ("rita", "eli", "quinn", "paula", "adrian", "ana", "cora", "audrey", "adele", "otto")
AXE_JS = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"

# Where in the page an element lies, for each visible action (buttons and button-like links).
ACTIONS_OUTSIDE_JS = """() => {
  const W = document.documentElement.clientWidth;
  const out = [];
  for (const el of document.querySelectorAll('main button, main .btn, main summary.btn')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;           // not shown (closed menu, hidden)
    if (el.closest('details:not([open])') && !el.matches('summary')) continue;
    if (r.left < 0 || r.right > W + 0.5) out.push((el.textContent || '').trim() + ' @' + Math.round(r.left) + '-' + Math.round(r.right));
  }
  return out;
}"""


@pytest.fixture
def demo():
    call_command("seed_demo", stdout=StringIO())
    return {r.version: r for r in Release.objects.filter(project__slug="storefront")}


@pytest.fixture
def open_as(chromium, live_server):
    """``page = open_as("rita", PHONE)``: a demo person signed in on a screen of that size."""
    contexts = []

    def _open(username: str, viewport: dict):
        context = chromium.new_context(base_url=live_server.url, viewport=viewport)
        context.set_default_timeout(BROWSER_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.goto("/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", "demo")
        page.click("button[type=submit]")
        expect(page.locator(".usermenu")).to_be_visible()
        return page

    yield _open
    for context in contexts:
        context.close()


# True while htmx still has a request of the page in flight (the navigation's badge loads after
# the page does). Waiting for this instead of "networkidle" saves that state's fixed half second
# of silence on each of the many pages these tests open.
HTMX_BUSY_JS = "() => !document.querySelector('.htmx-request')"


def _visit(page, path: str) -> None:
    response = page.goto(path)
    assert response is not None and response.status == 200, (
        f"{path}: {response and response.status}"
    )
    page.wait_for_function(HTMX_BUSY_JS)


def _release_pages(demo) -> list[str]:
    return [demo[v].get_absolute_url() for v in ("2.3.0", "2.4.0", "2.3.1", "2.2.2")]


def check_every_action_on_the_release_page_lies_inside_the_viewport(demo, open_as, size):
    for username in ("rita", "quinn", "adrian"):
        page = open_as(username, size)
        for path in _release_pages(demo):
            _visit(page, path)
            assert page.evaluate(ACTIONS_OUTSIDE_JS) == [], f"{username} {path} at {size}"
        page.context.close()


def check_section_menu_does_not_cover_the_heading_it_jumps_to(demo, open_as):
    page = open_as("quinn", DESKTOP)
    _visit(page, demo["2.3.0"].get_absolute_url())
    page.locator(".subnav").get_by_role("link", name="Approvals and go/no-go").click()
    heading = page.locator("#panel-approvals-heading")
    expect(heading).to_be_in_viewport()
    page.wait_for_function(
        "() => Math.abs(document.querySelector('#panel-approvals').getBoundingClientRect().top - 140) < 40"
    )
    menu_bottom = page.evaluate("document.querySelector('.subnav').getBoundingClientRect().bottom")
    heading_top = heading.bounding_box()["y"]
    assert heading_top >= menu_bottom, (heading_top, menu_bottom)


MAIN_PAGES = (
    "/",
    "/releases/",
    "/approvals/inbox/",
    "/checklists/mine/",
    "/monitoring/",
    "/audit/",
    "/projects/",
    "/notifications/",
)


def _main_pages(username: str, demo, releases=("2.3.0", "2.4.0", "2.3.1", "2.2.2")) -> list[str]:
    if username == "otto":  # only in Mobile App: the Storefront pages are not his
        return [*MAIN_PAGES, "/projects/mobile-app/"]
    pages = [
        *MAIN_PAGES,
        "/projects/storefront/",
        "/projects/storefront/environments/",
        *[demo[v].get_absolute_url() for v in releases],
        f"/audit/releases/{demo['2.1.0'].pk}/record/",
    ]
    window = demo["2.2.0"].deployments.filter(monitoring_windows__isnull=False).first()
    if window is not None:
        pages.append(window.monitoring_windows.first().get_absolute_url())
    if username == "adele":
        pages.append("/projects/storefront/tokens/")
    return pages


def check_phone__no_page_scrolls_sideways_and_the_menu_reaches_every_section(demo, open_as):
    for username in ("rita", "quinn", "adele", "otto"):
        page = open_as(username, PHONE)
        for path in _main_pages(username, demo):
            _visit(page, path)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"{username} {path}: {width} px wide"
        # Every entry of the main navigation is on the screen, none cut off.
        _visit(page, "/")
        for link in page.locator(".mainnav a").all():
            box = link.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (
                link.inner_text()
            )
        page.context.close()


def check_dashboard__grid_banner_and_waiting_count(demo, open_as, size):
    page = open_as("rita", size)
    _visit(page, "/")
    grid = page.locator("#live-grid")
    expect(grid).to_contain_text("What is live where")
    storefront = grid.locator("tr", has_text="Storefront")
    # 2.4.0 runs in development, 2.3.0 in staging: versions, not counts.
    expect(storefront.locator("td.live-cell").first).to_contain_text("2.4.0")
    expect(storefront.locator("td.live-cell").nth(1)).to_contain_text("2.3.0")
    expect(storefront.get_by_role("link", name="Promote 2.4.0")).to_be_visible()

    banner = page.locator(".urgent-banner")
    expect(banner).to_contain_text("2.3.1")
    action = banner.locator(".urgent", has_text="2.3.1").locator("summary.btn, a.btn, button").first
    action.scroll_into_view_if_needed()
    expect(action).to_be_in_viewport()
    box = action.bounding_box()
    assert box["x"] + box["width"] <= size["width"]

    count = page.locator(".mainnav .nav-count")
    expect(count).to_be_visible()
    shown = int(count.inner_text())
    expect(page.locator("#waiting-heading .badge")).to_have_text(str(shown))
    page.locator(".mainnav").get_by_role("link", name=re.compile("Waiting for me")).click()
    expect(page.locator("h1")).to_have_text("Waiting for me")
    expect(page.locator("table.inbox tbody tr")).to_have_count(shown)


def check_banner_action__rolls_back_the_failed_deployment_from_the_top_of_the_page(demo, open_as):
    page = open_as("rita", DESKTOP)
    release = demo["2.3.1"]
    _visit(page, release.get_absolute_url())
    item = page.locator(".urgent-banner .urgent", has_text="Staging")
    item.locator("summary", has_text="Roll back Staging").click()
    item.locator("textarea[name=reason]").fill("Session fix broke logins on staging.")
    item.get_by_role("button", name="Roll back Staging").click()
    expect(page.locator("#stage-staging")).to_contain_text("Rolled back")
    expect(page.locator(".urgent-banner")).to_have_count(0)


def check_tokens_page__snippet_readable_link_served_and_every_scope_ticked(demo, open_as):
    page = open_as("adele", DESKTOP)
    _visit(page, "/projects/storefront/tokens/")
    # Every pipeline scope is ticked; "config" (it rewrites the project's configuration as
    # the token's creator, docs/config-as-code.md) only when someone asks for it.
    for box in page.locator("input[name=scopes]").all():
        if box.get_attribute("value") == "config":
            expect(box).not_to_be_checked()
        else:
            expect(box).to_be_checked()
    page.fill("#id_name", "Deploy workflow")
    page.get_by_role("button", name="Create token").click()
    snippet = page.locator(".token-env")
    expect(snippet).to_contain_text("SHIPCHECK_TOKEN")
    _assert_no_serious_violations(page, "#token-create")
    href = page.get_by_role("link", name="API reference").get_attribute("href")
    assert page.request.get(href).status == 200


def _assert_no_serious_violations(page, selector: str = "html") -> None:
    if not AXE_JS.exists():
        pytest.fail("axe-core is missing: run `make axe` (npm ci) first.")
    page.add_script_tag(path=str(AXE_JS))
    violations = page.evaluate(
        """async (selector) => (await axe.run(selector, {resultTypes: ['violations']})).violations
             .filter(v => v.impact === 'serious' || v.impact === 'critical')
             .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))""",
        selector,
    )
    assert violations == [], f"{page.url}: {violations}"


# What each person's role changes (their own queue, their buttons on a release) is checked for
# every person; the pages that read the same for everyone, for two people of opposite roles.
PERSONAL_PAGES = ("/", "/approvals/inbox/", "/checklists/mine/", "/notifications/")
SHARED_PAGES_SEEN_BY = ("rita", "audrey")


def _accessibility_pages(username: str, demo) -> list[str]:
    pages = _main_pages(username, demo, releases=("2.3.0", "2.3.1"))
    if username == "otto" or username in SHARED_PAGES_SEEN_BY:
        return pages
    releases = {demo[v].get_absolute_url() for v in ("2.3.0", "2.3.1")}
    return [p for p in pages if p in PERSONAL_PAGES or p in releases]


def check_accessibility__no_serious_or_critical_violation_for_any_demo_person(demo, open_as):
    for username in PERSONAS:
        page = open_as(username, DESKTOP)
        for path in _accessibility_pages(username, demo):
            _visit(page, path)
            _assert_no_serious_violations(page)
        page.context.close()


# The demo is seeded once per test (it takes a while); each test walks many pages.


def test_demo_at_1366x900__actions_visible_grid_banner_count_and_tokens(demo, open_as):
    check_every_action_on_the_release_page_lies_inside_the_viewport(demo, open_as, DESKTOP)
    check_section_menu_does_not_cover_the_heading_it_jumps_to(demo, open_as)
    check_dashboard__grid_banner_and_waiting_count(demo, open_as, DESKTOP)
    check_tokens_page__snippet_readable_link_served_and_every_scope_ticked(demo, open_as)
    # Last, as it changes the demo: the banner's own action.
    check_banner_action__rolls_back_the_failed_deployment_from_the_top_of_the_page(demo, open_as)


def test_demo_at_1366x900__no_serious_accessibility_violation_for_any_demo_person(demo, open_as):
    check_accessibility__no_serious_or_critical_violation_for_any_demo_person(demo, open_as)


def test_demo_on_a_390px_phone__actions_visible_no_sideways_scrolling_grid_banner_count(
    demo, open_as
):
    check_every_action_on_the_release_page_lies_inside_the_viewport(demo, open_as, PHONE)
    check_phone__no_page_scrolls_sideways_and_the_menu_reaches_every_section(demo, open_as)
    check_dashboard__grid_banner_and_waiting_count(demo, open_as, PHONE)
