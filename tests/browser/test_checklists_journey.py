"""In Chromium: a release manager and a QA member each tick their items and production opens."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from checklists.services import item_tick
from releases.gates import gate_evaluate
from releases.services import release_create
from tests.checklists.helpers import deploy, item_named, small_template_create

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staged_release(project, people, envs, gates_only):
    """3.1.0 on the small template, through dev and staging; production waits on its checklist."""
    gates_only("checklists")
    small_template_create(project=project, admin=people.adam)
    release = release_create(
        project=project,
        version="3.1.0",
        title="Small one",
        actor=people.alice,
        rollback_plan="Redeploy 3.0.0.",
    )
    item_tick(item=item_named(release, "Release branch cut"), actor=people.alice)
    deploy(release, envs["dev"], people.bob)
    deploy(release, envs["staging"], people.bob)
    return release


def _item(page, text):
    return page.locator(".checklist-item", has_text=text)


def test_release_manager_and_qa_tick_their_items_and_production_opens(
    staged_release, people, envs, login_as
):
    url = f"/releases/{staged_release.pk}/"
    production_gate = ".checklist-gate[data-tier=production]"

    rita = login_as(people.alice)
    rita.goto(url)
    expect(rita.locator(production_gate)).to_contain_text("2 required items open")
    # Alice only sees a tick button on what she may tick: her item and, as release manager, QA's too.
    _item(rita, "Rollback rehearsed").get_by_role("button", name="Tick: Rollback rehearsed").click()
    expect(_item(rita, "Rollback rehearsed")).to_contain_text("Ticked by alice")
    expect(rita.locator(production_gate)).to_contain_text("1 required item open")

    quinn = login_as(people.quinn)
    quinn.goto(url)
    expect(_item(quinn, "Rollback rehearsed")).to_contain_text("Ticked by alice")
    expect(quinn.get_by_role("button", name="Tick: Rollback rehearsed")).to_have_count(0)
    regression = _item(quinn, "Regression suite green")
    # Without evidence the tick is refused in place, and nothing changes.
    regression.get_by_role("button", name="Tick: Regression suite green").click()
    expect(_item(quinn, "Regression suite green")).to_contain_text("needs evidence")
    _item(quinn, "Regression suite green").get_by_label("Evidence for Regression suite green").fill(
        "https://ci.example.com/runs/4411"
    )
    _item(quinn, "Regression suite green").get_by_role(
        "button", name="Tick: Regression suite green"
    ).click()
    expect(_item(quinn, "Regression suite green")).to_contain_text("Ticked by quinn")
    expect(quinn.locator(production_gate)).to_contain_text("checklist complete")
    # The release page redraws its gates: production is open now.
    expect(quinn.locator("#gates-production")).to_have_class(re.compile(r"\bis-open\b"))

    report = gate_evaluate(release=staged_release, environment=envs["production"])
    assert report.is_open, report.as_list()

    # Alice's next look shows Quinn's tick and evidence link without her losing her own.
    rita.goto(url)
    expect(_item(rita, "Regression suite green")).to_contain_text("Ticked by quinn")
    _item(rita, "Regression suite green").locator("summary").click()
    expect(
        _item(rita, "Regression suite green").get_by_role("link", name=re.compile("ci.example.com"))
    ).to_be_visible()
    expect(rita.get_by_role("button", name="Promote to Production")).to_be_visible()
