"""A rollout plan ticks the release's feature-flag checklist items, with itself as evidence."""

from __future__ import annotations

import pytest

from checklists.models import Item
from checklists.template_content import shipped_templates_install
from core.exceptions import Conflict
from flags.services import plan_checklist_tick, plan_create, plan_start
from releases.services import release_create


@pytest.fixture
def checked_release(people, project):
    shipped_templates_install()
    return release_create(
        project=project, version="3.0.0", title="With a checklist", actor=people.alice
    )


def test_plan_ticks_the_flag_items(client, people, checked_release, prod, flag):
    flag_items = Item.objects.filter(
        checklist__release=checked_release, text__icontains="feature flag"
    )
    assert flag_items.exists(), "the shipped template names feature flags"
    plan = plan_create(
        release=checked_release, environment=prod, actor=people.alice, flag_key="fast-checkout"
    )
    with pytest.raises(Conflict):
        plan_checklist_tick(plan=plan, actor=people.alice)
    plan = plan_start(plan=plan, actor=people.alice)
    client.force_login(people.alice)
    page = client.get(f"/releases/{checked_release.pk}/").content.decode()
    assert (
        "Tick the checklist&#x27;s flag items" in page or "Tick the checklist's flag items" in page
    )
    answer = client.post(f"/flag-plans/{plan.pk}/tick-checklist/")
    assert answer.status_code == 302
    for item in flag_items:
        assert item.status == "done"
        assert item.evidence == f"Shipcheck rollout plan {plan.pk}"
        assert "running at 10 %" in item.note
