"""Demo data for monitoring (``manage.py seed_demo``; idempotent).

* Storefront (``seed_late``, after its production deployments): health and
  metric checks on every environment, pointed at the
  demo metrics server that ``make run`` starts (``monitoring.demo_server`` on
  127.0.0.1:8001), and the monitoring history its released versions imply:
  passed canary and post-deploy windows for 2.1.0, 2.1.1 and 2.2.1, and for
  2.2.0 a passed canary whose post-deploy window failed on p95 latency (the
  reason it was rolled back).
* Payments API, a second project with the same people, whose story is all
  monitoring, played through the services (each release reaches production
  with its test run, sign-offs, two approvals and a go/no-go, as in Storefront):
  1.4.0  canary passed, full rollout approved by Rita, post-deploy passed: released;
  1.4.1  canary failed on the error rate: deployment failed, rollback recommended;
  1.5.0  canary running now in production, polled live against the demo server.

Switch the demo server to ``degraded`` (``curl -X POST 127.0.0.1:8001/mode?set=degraded``)
to watch the running canary fail, or ``outage`` to watch it hold on an error.
"""

from __future__ import annotations

import os
import random
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from audit.services import audit_record
from monitoring.choices import (
    BaselineStatus,
    CheckKind,
    CheckVerdictStatus,
    DecisionAction,
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
from monitoring.services import check_create, policy_update, window_decide
from monitoring.services.config import bounds_from, health_config, metric_config
from monitoring.services.polling import window_record
from monitoring.services.windows import window_conclude
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
from projects.choices import Role
from projects.models import Environment, Project
from projects.services import membership_grant, project_create
from releases import services as releases
from releases.choices import DeploymentStatus, DeploymentStrategy, ReleaseType
from releases.models import Deployment, Release

DEMO_SERVER = os.environ.get("SHIPCHECK_DEMO_METRICS_URL", "http://127.0.0.1:8001").rstrip("/")

ERROR_RATE_QUERY = (
    'sum(rate(http_requests_total{job="storefront",status=~"5.."}[5m])) '
    '/ sum(rate(http_requests_total{job="storefront"}[5m])) * 100'
)
LATENCY_QUERY = (
    "histogram_quantile(0.95, sum(rate(http_request_duration_seconds_bucket"
    '{job="storefront"}[5m])) by (le)) * 1000'
)
CPU_QUERY = 'avg(rate(process_cpu_seconds_total{job="storefront"}[5m])) * 100'
MEMORY_QUERY = (
    'avg(process_resident_memory_bytes{job="storefront"} / node_memory_MemTotal_bytes) * 100'
)

HEALTH = {
    "name": "Health endpoint",
    "url": f"{DEMO_SERVER}/healthz",
    "json_path": "$.status",
    "expected_value": "ok",
    "timeout_seconds": 3,
    "failure_limit": 2,
}
ERROR_RATE = {
    "name": "Error rate",
    "url": DEMO_SERVER,
    "query": ERROR_RATE_QUERY,
    "unit": "%",
    "max_value": 2.0,
    "baseline_delta": 1.0,
    "failure_limit": 1,
    "timeout_seconds": 3,
}
LATENCY = {
    "name": "p95 latency",
    "url": DEMO_SERVER,
    "query": LATENCY_QUERY,
    "unit": "ms",
    "baseline_ratio": 1.2,
    "noise_floor": 250.0,
    "failure_limit": 2,
    "timeout_seconds": 3,
}
CPU = {
    "name": "CPU",
    "url": DEMO_SERVER,
    "query": CPU_QUERY,
    "unit": "%",
    "max_value": 80.0,
    "use_in_precheck": True,
    "is_critical": False,
    "failure_limit": 3,
    "timeout_seconds": 3,
}
MEMORY = {
    "name": "Memory",
    "url": DEMO_SERVER,
    "query": MEMORY_QUERY,
    "unit": "%",
    "max_value": 70.0,
    "use_in_precheck": True,
    "is_critical": False,
    "failure_limit": 3,
    "timeout_seconds": 3,
}

PLANS = {
    "dev": ([HEALTH], [], {"poll_interval": 10, "canary_duration": 600, "post_deploy_duration": 0}),
    "staging": (
        [HEALTH],
        [ERROR_RATE],
        {"poll_interval": 10, "canary_duration": 900, "post_deploy_duration": 0},
    ),
    "production": (
        [HEALTH],
        [ERROR_RATE, LATENCY, CPU, MEMORY],
        {
            "poll_interval": 10,
            "canary_duration": 900,
            "post_deploy_duration": 1800,
            "canary_percent": 5,
            "auto_promote_canary": False,
        },
    ),
}

PAYMENTS = (
    "Payments API",
    "payments-api",
    "Card and wallet payments for the storefront and the app.",
)
PAYMENTS_ROLES = {
    "rita": (Role.RELEASE_MANAGER,),
    "eli": (Role.ENGINEER,),
    "quinn": (Role.QA,),
    "paula": (Role.PRODUCT_OWNER,),
    "adrian": (Role.APPROVER,),
    "ana": (Role.APPROVER,),
    "cora": (Role.EMERGENCY_APPROVER, Role.APPROVER),
    "audrey": (Role.AUDITOR,),
    "adele": (Role.ADMIN,),
}
PLAN = "Redeploy the previous artifact with the pipeline's *redeploy* job; no migrations to revert."

# Metric name → (healthy centre, spread). Values the demo server also answers.
HEALTHY = {
    "Error rate": (0.4, 0.1),
    "p95 latency": (180.0, 12.0),
    "CPU": (42.0, 5.0),
    "Memory": (58.0, 2.0),
}


def _allowlisted():
    """Let the configuration accept the demo server's host even where settings would not."""
    host = urlsplit(DEMO_SERVER).hostname or "127.0.0.1"
    return override_settings(SHIPCHECK_FETCH_ALLOWLIST=[*settings.SHIPCHECK_FETCH_ALLOWLIST, host])


def _configure(environment: Environment, admin) -> bool:
    if (
        HealthCheck.objects.filter(environment=environment).exists()
        or MetricCheck.objects.filter(environment=environment).exists()
    ):
        return False
    health, metrics, policy = PLANS[environment.name]
    values = {
        k: (
            timedelta(seconds=v)
            if k in ("poll_interval", "canary_duration", "post_deploy_duration")
            else v
        )
        for k, v in policy.items()
    }
    with _allowlisted():
        policy_update(environment=environment, actor=admin, **values)
        for spec in health:
            check_create(environment=environment, kind=CheckKind.HEALTH, actor=admin, **spec)
        for spec in metrics:
            check_create(environment=environment, kind=CheckKind.METRIC, actor=admin, **spec)
    return True


def _healthy(name: str, rng: random.Random) -> float:
    centre, spread = HEALTHY.get(name, (1.0, 0.1))
    return round(centre + rng.uniform(-spread, spread), 3)


# --- Storefront: the history its released versions imply --------------------------------------------


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


def _history_window(
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
                "value": _healthy(check.name, rng),
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


def _ok_readings(check, slot, rng) -> Reading:
    if check.kind == CheckKind.HEALTH:
        return Reading(
            SampleStatus.OK, value=1.0, http_status=200, latency_ms=round(rng.uniform(8, 25), 1)
        )
    return Reading(
        SampleStatus.OK, value=_healthy(check.name, rng), http_status=200, latency_ms=12.0
    )


def _slow_search(check, slot, rng) -> Reading:
    """2.2.0: p95 latency climbs from 180 ms to 1.4 s a few minutes after the full rollout."""
    if check.name == "p95 latency" and slot >= 6:
        return Reading(
            SampleStatus.OK, value=round(1400 + rng.uniform(-80, 80), 1), http_status=200
        )
    return _ok_readings(check, slot, rng)


def _storefront_history(ctx) -> int:
    created = 0
    now = timezone.now()
    stories = {
        "2.1.0": (_ok_readings, 3),
        "2.1.1": (_ok_readings, 2),
        "2.2.1": (_ok_readings, 1),
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
            _history_window(
                deployment, WindowKind.CANARY, start=start, minutes=15, readings=_ok_readings
            )
            window = _history_window(
                deployment,
                WindowKind.POST_DEPLOY,
                start=start + timedelta(minutes=20),
                minutes=30,
                readings=post_deploy,
            )
            if window.status == WindowStatus.PASSED:
                Deployment.objects.filter(pk=deployment.pk).update(verified_at=window.finished_at)
        created += 1
    return created


# --- Payments API: a project whose story is monitoring -----------------------------------------------


def _payments_project(ctx) -> tuple[Project, bool]:
    project = Project.objects.filter(slug=PAYMENTS[1]).first()
    created = project is None
    if created:
        project = project_create(
            name=PAYMENTS[0],
            slug=PAYMENTS[1],
            description=PAYMENTS[2],
            actor=None,
            admins=[ctx.people["adele"]],
        )
    for username, roles in PAYMENTS_ROLES.items():
        for role in roles:
            membership_grant(project=project, user=ctx.people[username], role=role)
    return project, created


def _feed(window: MonitoringWindow, readings, *, upto: int | None = None) -> MonitoringWindow:
    """Run a window's polls through the real services, with readings instead of HTTP (history)."""
    slots = int((window.ends_at - window.started_at) // window.poll_interval)
    checks = list(window.checks.all())
    for slot in range(1, (upto or slots) + 1):
        taken = window.started_at + window.poll_interval * slot
        window_record(
            window_id=window.pk,
            slot=slot,
            taken_at=taken,
            readings={c.pk: readings(c, slot) for c in checks},
        )
        window.refresh_from_db()
        if window.status != WindowStatus.RUNNING:
            return window
    MonitoringWindow.objects.filter(pk=window.pk).update(next_slot=slots + 1)
    window_conclude(window_id=window.pk, now=window.ends_at + timedelta(seconds=1))
    window.refresh_from_db()
    return window


def _backdate(window: MonitoringWindow, start) -> MonitoringWindow:
    length = window.ends_at - window.started_at
    MonitoringWindow.objects.filter(pk=window.pk).update(
        started_at=start, ends_at=start + length, next_poll_at=start + window.poll_interval
    )
    Baseline.objects.filter(deployment=window.deployment, status=BaselineStatus.PENDING).update(
        status=BaselineStatus.TAKEN, taken_at=start
    )
    for baseline in Baseline.objects.filter(deployment=window.deployment, value__isnull=True):
        baseline.value = HEALTHY.get(baseline.name, (1.0, 0))[0]
        baseline.save(update_fields=["value"])
    window.refresh_from_db()
    return window


def _to_staging(release: Release, people) -> None:
    for name in ("dev", "staging"):
        environment = Environment.objects.get(project=release.project, name=name)
        deployment = releases.release_promote(
            release=release, environment=environment, actor=people["eli"]
        )
        releases.deployment_finish(deployment=deployment, succeeded=True, actor=people["eli"])


def _canary(release: Release, people) -> MonitoringWindow:
    """Tests, sign-offs, approvals and the go/no-go first, as for Storefront; then the canary."""
    from approvals.demo import cleared_for_production
    from integrations.demo import junit_report
    from integrations.services import test_run_record

    envs = {e.name: e for e in Environment.objects.filter(project=release.project)}
    test_run_record(
        release=release,
        actor=people["quinn"],
        junit_xml=junit_report(386, [], 2),
        name="unit",
        environment=envs["staging"],
        coverage_percent=88.4,
    )
    cleared_for_production(release, envs, people)
    production = envs["production"]
    deployment = releases.release_promote(
        release=release,
        environment=production,
        actor=people["eli"],
        strategy=DeploymentStrategy.CANARY,
    )
    return MonitoringWindow.objects.get(deployment=deployment, kind=WindowKind.CANARY)


def _payments_story(project: Project, people) -> list[str]:
    rng = random.Random(7)

    def healthy(check, slot):
        if check.kind == CheckKind.HEALTH:
            return Reading(
                SampleStatus.OK, value=1.0, http_status=200, latency_ms=round(rng.uniform(8, 20), 1)
            )
        return Reading(
            SampleStatus.OK, value=_healthy(check.name, rng), http_status=200, latency_ms=9.0
        )

    def errors_spike(check, slot):
        if check.name == "Error rate" and slot >= 4:
            return Reading(
                SampleStatus.OK,
                value=round(5.8 + slot * 0.2 + rng.uniform(-0.3, 0.3), 2),
                http_status=200,
            )
        return healthy(check, slot)

    made = []
    now = timezone.now()
    manager = people["rita"]
    with override_settings(SHIPCHECK_GATE_APPS={"releases"}):
        if not Release.objects.filter(project=project, version="1.4.0").exists():
            with transaction.atomic():
                release = releases.release_create(
                    project=project,
                    version="1.4.0",
                    title="Wallet payments",
                    type=ReleaseType.MINOR,
                    actor=manager,
                    rollback_plan=PLAN,
                    description="Apple Pay and Google Pay at checkout.",
                )
                _to_staging(release, people)
                canary = _backdate(_canary(release, people), now - timedelta(hours=5))
                canary = _feed(canary, healthy)
                window_decide(
                    window=canary,
                    actor=manager,
                    action=DecisionAction.PROMOTE,
                    reason="Error rate and latency flat against the baseline.",
                )
                releases.deployment_finish(
                    deployment=canary.deployment, succeeded=True, actor=people["eli"]
                )
                post = MonitoringWindow.objects.get(
                    deployment=canary.deployment, kind=WindowKind.POST_DEPLOY
                )
                _feed(_backdate(post, now - timedelta(hours=4, minutes=40)), healthy)
            made.append("1.4.0")
        if not Release.objects.filter(project=project, version="1.4.1").exists():
            with transaction.atomic():
                release = releases.release_create(
                    project=project,
                    version="1.4.1",
                    title="Retry declined wallets",
                    type=ReleaseType.PATCH,
                    actor=manager,
                    rollback_plan=PLAN,
                    description="Retries a declined wallet payment once with 3-D Secure.",
                )
                _to_staging(release, people)
                _feed(_backdate(_canary(release, people), now - timedelta(hours=2)), errors_spike)
            made.append("1.4.1")
        if not Release.objects.filter(project=project, version="1.5.0").exists():
            with transaction.atomic():
                release = releases.release_create(
                    project=project,
                    version="1.5.0",
                    title="Saved cards",
                    type=ReleaseType.MINOR,
                    actor=manager,
                    rollback_plan=PLAN,
                    description="Shoppers keep a card on file (tokenised).",
                )
                _to_staging(release, people)
                window = _canary(release, people)
                # Live: workers poll the demo metrics server from now on.
                Baseline.objects.filter(deployment=window.deployment).update(
                    status=BaselineStatus.TAKEN, taken_at=now
                )
                for baseline in Baseline.objects.filter(deployment=window.deployment):
                    baseline.value = HEALTHY.get(baseline.name, (1.0, 0))[0]
                    baseline.save(update_fields=["value"])
            made.append("1.5.0 (canary running)")
    return made


def seed(ctx) -> None:
    """The Payments API project and its story; running it twice creates nothing new."""
    admin = ctx.people["adele"]
    project, _created = _payments_project(ctx)
    for env in Environment.objects.filter(project=project).order_by("order"):
        _configure(env, admin)
    story = _payments_story(project, ctx.people)
    if ctx.stdout is not None:
        ctx.stdout.write(
            f"Monitoring: Payments API: {', '.join(story) or 'already there'}. "
            f"Demo metrics server: {DEMO_SERVER}."
        )


def seed_late(ctx) -> None:
    """After Storefront's production deployments (``releases.demo.seed_late``): the checks that
    watch its environments, then the history those deployments imply. (Configured only now: with
    checks in place, the deployments would have been held by live windows of their own.)"""
    admin = ctx.people["adele"]
    configured = [
        env.name
        for env in Environment.objects.filter(project=ctx.project).order_by("order")
        if _configure(env, admin)
    ]
    history = _storefront_history(ctx)
    if ctx.stdout is not None:
        ctx.stdout.write(
            f"Monitoring: {history} Storefront releases given their monitoring history; checks "
            f"configured in {', '.join(configured) or 'no new environment'}."
        )
