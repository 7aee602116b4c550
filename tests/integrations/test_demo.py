"""The demo has a pipeline token, a revoked one, and uploaded test results; seeding twice adds nothing."""

from __future__ import annotations

import io

from audit.models import AuditEvent
from demo import integrations as integrations_demo
from demo import releases as releases_demo
from projects.models import ApiToken
from releases.models import TestRun as RecordedTestRun


def test_demo_seed__tokens_and_test_runs__and_idempotent(db):
    ctx = releases_demo.foundation()
    releases_demo.seed(ctx)
    ctx.stdout = io.StringIO()
    integrations_demo.seed(ctx)
    assert "demo pipeline token (shown once): shp_" in ctx.stdout.getvalue()
    tokens = {t.name: t for t in ApiToken.objects.filter(project=ctx.project)}
    assert tokens[integrations_demo.PIPELINE_TOKEN_NAME].is_active
    assert tokens[integrations_demo.OLD_TOKEN_NAME].revoked_at is not None
    run = RecordedTestRun.objects.get(release=ctx.releases["2.4.0"])
    assert (run.total, run.failures, run.skipped, run.coverage_percent) == (452, 2, 5, 87.4)
    assert run.recorded_by_label == f"token:{integrations_demo.PIPELINE_TOKEN_NAME}"
    assert RecordedTestRun.objects.count() == len(integrations_demo.TEST_RESULTS)

    events, runs = AuditEvent.objects.count(), RecordedTestRun.objects.count()
    ctx.stdout = io.StringIO()
    integrations_demo.seed(ctx)
    assert "shown once" not in ctx.stdout.getvalue()
    assert (AuditEvent.objects.count(), RecordedTestRun.objects.count()) == (events, runs)
