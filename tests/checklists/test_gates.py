"""The checklist gate: a release may not enter an environment while a step gating it is incomplete."""

from __future__ import annotations

import pytest

from checklists.services import (
    item_mark_not_applicable,
    item_tick,
    template_create,
    template_item_add,
    template_publish,
    template_step_add,
)
from releases.exceptions import GateBlocked
from releases.gates import gate_evaluate
from releases.models import Deployment
from releases.services import release_create, release_promote
from tests.checklists.helpers import deploy, item_named

pytestmark = pytest.mark.usefixtures("checklist_gates")


def _checklist_gate(release, environment):
    report = gate_evaluate(release=release, environment=environment)
    return next((g for g in report.gates if g.code == "checklist"), None)


def test_gate__incomplete_step__closes_staging_and_names_the_missing_item(
    small_release, envs, people
):
    deploy(small_release, envs["dev"], people.bob)
    gate = _checklist_gate(small_release, envs["staging"])
    assert gate.state == "closed"
    assert (
        gate.reason
        == "Checklist not complete for Staging. 'Branch ready' is missing: Release branch cut."
    )
    with pytest.raises(GateBlocked) as exc:
        release_promote(release=small_release, environment=envs["staging"], actor=people.bob)
    assert "Release branch cut" in exc.value.message
    assert not Deployment.objects.filter(environment=envs["staging"]).exists()


def test_gate__production_lists_required_items_only(small_release, envs, people):
    gate = _checklist_gate(small_release, envs["production"])
    assert gate.state == "closed"
    assert "Rollback rehearsed; Regression suite green." in gate.reason
    assert "Dashboards open" not in gate.reason  # optional


def test_gate__environment_without_gating_steps__is_silent(small_release, envs):
    assert _checklist_gate(small_release, envs["dev"]) is None


def test_gate__opens_when_items_are_done_or_not_applicable(small_release, envs, people):
    item_tick(item=item_named(small_release, "Release branch cut"), actor=people.alice)
    deploy(small_release, envs["dev"], people.bob)
    deploy(small_release, envs["staging"], people.bob)
    item_tick(item=item_named(small_release, "Rollback rehearsed"), actor=people.alice)
    assert _checklist_gate(small_release, envs["production"]).state == "closed"
    item_mark_not_applicable(
        item=item_named(small_release, "Regression suite green"),
        actor=people.alice,
        reason="Docs-only release.",
    )
    gate = _checklist_gate(small_release, envs["production"])
    assert gate.state == "open"
    assert "'Ready for production'" in gate.reason
    assert gate_evaluate(release=small_release, environment=envs["production"]).is_open
    assert release_promote(release=small_release, environment=envs["production"], actor=people.bob)


def test_gate__many_missing_items__lists_eight_and_counts_the_rest(project, people, envs):
    template = template_create(
        project=project, actor=people.adam, name="Long", release_types=["major"]
    )
    step = template_step_add(
        version=template.versions.get(), actor=people.adam, title="Lots", phase="before_staging"
    )
    for n in range(12):
        template_item_add(step=step, actor=people.adam, text=f"Thing {n}", role="engineer")
    template_publish(template=template, actor=people.adam)
    big = release_create(
        project=project, version="9.0.0", title="Big", actor=people.alice, type="major"
    )
    gate = _checklist_gate(big, envs["staging"])
    assert "Thing 7; and 4 more." in gate.reason
    assert "Thing 8" not in gate.reason


def test_gate__release_without_checklist__is_silent(release, envs):
    release.checklist.delete()
    assert _checklist_gate(release, envs["production"]) is None


def test_gate__evaluation_uses_a_constant_number_of_queries(
    release, envs, django_assert_max_num_queries
):
    with django_assert_max_num_queries(10):
        gate_evaluate(release=release, environment=envs["production"])
