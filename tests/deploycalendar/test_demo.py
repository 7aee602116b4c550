"""The calendar chapter of the demo: windows, freezes, plans, a queued promotion, an override."""

from __future__ import annotations

from io import StringIO

import pytest

from demo import deploycalendar as demo
from demo import releases as releases_demo
from deploycalendar.models import (
    DeployWindow,
    Freeze,
    Override,
    QueuedPromotion,
    ScheduledDeployment,
)
from releases.gates import gate_evaluate

pytestmark = pytest.mark.django_db


def test_demo__calendar_chapter_and_second_run_creates_nothing(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    ctx = releases_demo.foundation(StringIO())
    releases_demo.seed(ctx)
    releases_demo.seed_late(ctx)
    demo.seed(ctx)
    counts = [
        m.objects.count()
        for m in (DeployWindow, Freeze, Override, QueuedPromotion, ScheduledDeployment)
    ]
    assert counts == [2, 4, 1, 1, 2]
    assert set(Freeze.objects.values_list("name", flat=True)) >= {
        "Weekend freeze",
        "Year-end freeze",
    }
    assert QueuedPromotion.objects.get().status == "waiting"
    # The override lets 2.4.0 through the staging load test, and nothing else.
    staging = ctx.project.environments.get(name="staging")
    gate = next(
        g
        for g in gate_evaluate(release=ctx.releases["2.4.0"], environment=staging).gates
        if g.code == "deploy_window"
    )
    assert gate.state == "waived"
    demo.seed(ctx)
    assert counts == [
        m.objects.count()
        for m in (DeployWindow, Freeze, Override, QueuedPromotion, ScheduledDeployment)
    ]
