"""demo/flags.py on its own: three plans (25 %, completed, paused by a failing check), once."""

from __future__ import annotations

from demo.flags import seed
from demo.releases import DemoContext
from flags.choices import PlanStatus, StepStatus
from flags.models import Flag, RolloutPlan
from releases.services import release_create


def test_demo_chapter_tells_three_rollouts_once(people, project, other_project):
    releases = {
        version: release_create(project=project, version=version, title=version, actor=people.alice)
        for version in ("2.2.1", "2.3.0", "2.3.1")
    }
    ctx = DemoContext(
        project=project,
        other_project=other_project,
        people={"rita": people.alice},
        releases=releases,
    )
    seed(ctx)
    seed(ctx)
    plans = {p.flag_key: p for p in RolloutPlan.objects.all()}
    assert len(plans) == 3
    assert (plans["new-checkout"].status, plans["new-checkout"].current_percent) == (
        PlanStatus.RUNNING,
        25,
    )
    assert (plans["saved-carts"].status, plans["saved-carts"].current_percent) == (
        PlanStatus.COMPLETED,
        100,
    )
    paused = plans["one-click-pay"]
    assert paused.status == PlanStatus.PAUSED and paused.current_percent == 0
    assert paused.steps.get(position=0).status == StepStatus.FAILED
    assert "Checkout error rate" in paused.reason
    assert Flag.objects.get(key="one-click-pay").rollout == 0
