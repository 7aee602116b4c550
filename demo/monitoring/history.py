"""Storefront's monitoring history: the windows its released versions imply.

Storefront's production deployments happened before its checks were
configured (``demo.monitoring.seed_late``), so no live window watched them;
this module moves each such release's story ``days_ago`` (``demo.timeline``) and
writes the finished canary and post-deploy windows that follow its production
deployment, their samples and verdicts as the poller would have written them, judged by the same
verdict functions, with an audit event for each window opened and closed
(``"demo_history": True`` in its data).
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from demo.monitoring.checks import healthy_value
from demo.releases import DemoContext
from demo.timeline import story_shift
from monitoring.choices import (
    BaselineStatus,
    CheckKind,
    CheckVerdictStatus,
    RolloutState,
    SampleStatus,
    WindowKind,
    WindowStatus,
)
from monitoring.models import (
    Baseline,
    HealthCheck,
    MetricCheck,
    MonitoringWindow,
    Sample,
    WindowCheck,
)
from monitoring.services.config import bounds_from, health_config, metric_config
from monitoring.verdicts import (
    CheckState,
    Limits,
    Reading,
    Tally,
    check_verdict,
    judge_health,
    judge_metric,
    window_verdict,
)
from releases.choices import DeploymentStatus, DeploymentStrategy
from releases.models import Deployment, Release


def _replay(window: MonitoringWindow, readings, *, slots: int) -> None:
    """Write a finished window's samples and verdicts as the poller would have (no side effects)."""
    checks = list(window.checks.select_related("baseline"))
    tallies = {c.pk: Tally() for c in checks}
    rows, verdict, slot = [], None, 0
    for slot in range(1, slots + 1):
        taken = window.started_at + window.poll_interval * slot
        for check in checks:
            reading = readings(check, slot)
            if check.kind == CheckKind.HEALTH:
                judgement = judge_health(reading)
            else:
                base = check.baseline.value if check.baseline else None
                judgement = judge_metric(reading, bounds_from(check.config), base)
            rows.append(
                Sample(
                    window_check=check,
                    slot=slot,
                    taken_at=taken,
                    status=reading.status,
                    outcome=judgement.outcome,
                    value=reading.value,
                    http_status=reading.http_status,
                    latency_ms=reading.latency_ms,
                    detail=judgement.detail[:300],
                )
            )
            tallies[check.pk] = tallies[check.pk].add(judgement.outcome)
            check.last_detail = judgement.detail[:300]
            limits = Limits(
                check.config["failure_limit"],
                check.config["inconclusive_limit"],
                check.config["consecutive_error_limit"],
            )
            result = check_verdict(
                check.name,
                tallies[check.pk],
                limits,
                finished=slot == slots,
                last_detail=check.last_detail,
            )
            check.status, check.reason = result.status, result.reason
        verdict = window_verdict(
            [CheckState(c.name, c.is_critical, c.status, c.reason) for c in checks],
            finished=slot == slots,
        )
        if verdict.status != WindowStatus.RUNNING:
            break
    assert verdict is not None, "a history window has at least one slot"
    Sample.objects.bulk_create(rows)
    for check in checks:
        tally = tallies[check.pk]
        check.passes, check.failures, check.inconclusives = (
            tally.passes,
            tally.failures,
            tally.inconclusives,
        )
        check.errors, check.consecutive_errors = tally.errors, tally.consecutive_errors
        if check.status == CheckVerdictStatus.RUNNING:
            check.status = CheckVerdictStatus.PASSED
    WindowCheck.objects.bulk_update(
        checks,
        [
            "status",
            "reason",
            "passes",
            "failures",
            "inconclusives",
            "errors",
            "consecutive_errors",
            "last_detail",
        ],
    )
    finished = window.started_at + window.poll_interval * slot
    MonitoringWindow.objects.filter(pk=window.pk).update(
        status=verdict.status,
        reason=verdict.reason,
        finished_at=finished,
        next_poll_at=None,
        next_slot=slot + 1,
        last_polled_at=finished,
        rollout_state=RolloutState.FULL if window.kind == WindowKind.CANARY else "",
    )
    window.refresh_from_db()
    deployment = window.deployment
    audit_record(
        actor=None,
        action=f"monitoring.window_{window.status}",
        obj=window,
        project=deployment.release.project_id,
        release=deployment.release,
        from_state=WindowStatus.RUNNING,
        to_state=window.status,
        reason=window.reason,
        data={
            "kind": window.kind,
            "environment": deployment.environment.name,
            "demo_history": True,
        },
    )


def history_window(
    deployment: Deployment, kind: str, *, start, minutes: int, readings
) -> MonitoringWindow:
    environment = deployment.environment
    health = list(
        HealthCheck.objects.filter(environment=environment, enabled=True).order_by("name")
    )
    metrics = list(
        MetricCheck.objects.filter(environment=environment, enabled=True).order_by("name")
    )
    interval = timedelta(seconds=30)
    window = MonitoringWindow.objects.create(
        deployment=deployment,
        kind=kind,
        status=WindowStatus.RUNNING,
        poll_interval=interval,
        started_at=start,
        ends_at=start + timedelta(minutes=minutes),
        traffic_percent=5 if kind == WindowKind.CANARY else None,
        rollout_state=RolloutState.CANARY if kind == WindowKind.CANARY else "",
    )
    rng = random.Random(deployment.pk)
    rows = [
        WindowCheck(
            window=window,
            kind=CheckKind.HEALTH,
            health_check=c,
            name=c.name,
            position=i,
            config=health_config(c),
            is_critical=c.is_critical,
        )
        for i, c in enumerate(health)
    ]
    for i, check in enumerate(metrics, start=len(health)):
        baseline, _ = Baseline.objects.get_or_create(
            deployment=deployment,
            metric_check=check,
            defaults={
                "name": check.name,
                "status": BaselineStatus.TAKEN,
                "value": healthy_value(check.name, rng),
                "taken_at": start,
            },
        )
        rows.append(
            WindowCheck(
                window=window,
                kind=CheckKind.METRIC,
                metric_check=check,
                name=check.name,
                position=i,
                config=metric_config(check),
                is_critical=check.is_critical,
                baseline=baseline,
            )
        )
    WindowCheck.objects.bulk_create(rows)
    audit_record(
        actor=None,
        action="monitoring.window_opened",
        obj=window,
        project=deployment.release.project_id,
        release=deployment.release,
        to_state=WindowStatus.RUNNING,
        data={"kind": kind, "environment": environment.name, "demo_history": True},
    )
    _replay(window, lambda check, slot: readings(check, slot, rng), slots=int(minutes * 60 / 30))
    return window


def ok_readings(check, slot, rng) -> Reading:
    if check.kind == CheckKind.HEALTH:
        return Reading(
            SampleStatus.OK, value=1.0, http_status=200, latency_ms=round(rng.uniform(8, 25), 1)
        )
    return Reading(
        SampleStatus.OK, value=healthy_value(check.name, rng), http_status=200, latency_ms=12.0
    )


def _slow_search(check, slot, rng) -> Reading:
    """2.2.0: p95 latency climbs from 180 ms to 1.4 s a few minutes after the full rollout."""
    if check.name == "p95 latency" and slot >= 6:
        return Reading(
            SampleStatus.OK, value=round(1400 + rng.uniform(-80, 80), 1), http_status=200
        )
    return ok_readings(check, slot, rng)


def storefront_history(ctx: DemoContext) -> int:
    """Give Storefront's finished production canaries their windows; return how many."""
    created = 0
    now = timezone.now()
    stories = {
        "2.1.0": (ok_readings, 3),
        "2.1.1": (ok_readings, 2),
        "2.2.1": (ok_readings, 1),
        "2.2.0": (_slow_search, 2),
    }
    for version, (post_deploy, days_ago) in stories.items():
        release = (
            ctx.releases.get(version)
            or Release.objects.filter(project=ctx.project, version=version).first()
        )
        if release is None:
            continue
        deployment = (
            Deployment.objects.filter(
                release=release, environment__name="production", strategy=DeploymentStrategy.CANARY
            )
            .exclude(status=DeploymentStatus.IN_PROGRESS)
            .order_by("-created_at")
            .first()
        )
        if deployment is None or MonitoringWindow.objects.filter(deployment=deployment).exists():
            continue
        start = now - timedelta(days=days_ago, hours=2)
        with transaction.atomic():
            # The release went to production ``days_ago``: its whole story moves there, so that
            # its sign-offs still come before the deployment and the windows follow it.
            assert deployment.started_at is not None
            story_shift(release, start - deployment.started_at, before=now)
            canary = history_window(
                deployment, WindowKind.CANARY, start=start, minutes=15, readings=ok_readings
            )
            assert canary.finished_at is not None, "a history window is finished"
            window = history_window(
                deployment,
                WindowKind.POST_DEPLOY,
                start=canary.finished_at + timedelta(minutes=5),
                minutes=30,
                readings=post_deploy,
            )
            # The canary's full rollout finished the deployment; the post-deploy window verified it.
            Deployment.objects.filter(pk=deployment.pk).update(
                started_at=start,
                finished_at=canary.finished_at,
                verified_at=window.finished_at if window.status == WindowStatus.PASSED else None,
            )
        created += 1
    return created
