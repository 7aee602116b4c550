"""The demo's delivery history gives believable figures over three months."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from metrics.computations import metrics_compute
from metrics.scope import scope_parse

pytestmark = pytest.mark.django_db


def test_demo__search_has_three_months_of_believable_metrics(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    call_command("seed_demo", stdout=StringIO())
    rita = User.objects.get(username="rita")
    scope = scope_parse(rita, {"project": "search", "interval": "monthly"})
    m = metrics_compute(scope)
    assert m["deployment_frequency"].summary["count"] == 36  # 35 releases and a hotfix
    assert m["deployment_frequency"].band.name in ("high", "elite")
    assert 5 <= m["change_failure_rate"].value <= 15
    lead = m["lead_time_for_changes"].summary
    assert 2 * 3600 < lead["median"] < 3 * 86400 and lead["pairs"] > 100
    assert m["failed_deployment_recovery_time"].summary["recoveries"] >= 3
    assert m["bug_escape_rate"].summary["defects"] == 3
    assert len(m["deployment_frequency"].series) >= 3
    before = User.objects.count()
    call_command("seed_demo", stdout=StringIO())
    assert User.objects.count() == before
    assert (
        metrics_compute(scope, ["deployment_frequency"])["deployment_frequency"].summary["count"]
        == 36
    )
