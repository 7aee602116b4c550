"""Pre-deployment checks of an environment (the production promotion gate reads them).

Before a production deployment: every health endpoint answers as expected,
the metrics marked for pre-checks (CPU, memory …) are within their absolute
bounds, and the TLS certificate of every https health URL stays valid for at
least the policy's number of days. The gate must answer instantly and never
wait on the network, so the checks run here — on a schedule and on request —
and the gate reads the latest stored run.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from core.exceptions import NotFound
from monitoring.choices import CheckKind, Outcome
from monitoring.models import HealthCheck, MetricCheck, Precheck
from monitoring.permissions import can_run_prechecks, can_view_monitoring
from monitoring.probes import ProbeSpec, probe
from monitoring.services.config import (
    bounds_from,
    health_config,
    metric_config,
    policy_for,
    spec_for,
)
from monitoring.services.polling import executor
from monitoring.verdicts import judge_health, judge_metric
from projects.choices import Role, Tier
from projects.models import Environment
from projects.permissions import role_refusal

# Keep this many runs per environment; older ones say nothing the audit needs.
KEEP_RUNS = 50
# How often the scheduler refreshes the checks of a production environment; a
# failed run is retried sooner, so a fixed endpoint reopens the gate quickly.
REFRESH_EVERY = timedelta(minutes=5)
RETRY_FAILED_AFTER = timedelta(seconds=30)


def precheck_checks(environment: Environment) -> tuple[list[HealthCheck], list[MetricCheck]]:
    health = list(
        HealthCheck.objects.filter(environment=environment, enabled=True).order_by("name")
    )
    metrics = list(
        MetricCheck.objects.filter(
            environment=environment, enabled=True, use_in_precheck=True
        ).order_by("name")
    )
    return health, metrics


def _run(
    health: list[HealthCheck], metrics: list[MetricCheck], tls_min_days: int
) -> list[dict[str, Any]]:
    jobs: list[tuple[HealthCheck | MetricCheck, ProbeSpec]] = [
        (c, spec_for(CheckKind.HEALTH, health_config(c), c.headers, key=("health", c.pk)))
        for c in health
    ]
    jobs += [
        (c, spec_for(CheckKind.METRIC, metric_config(c), c.headers, key=("metric", c.pk)))
        for c in metrics
    ]
    answers = list(executor().map(lambda job: probe(job[1]), jobs))
    results: list[dict[str, Any]] = []
    now = timezone.now()
    for (check, spec), (reading, fetched) in zip(jobs, answers, strict=True):
        if isinstance(check, HealthCheck):
            judgement = judge_health(reading)
            results.append(
                {
                    "kind": "health",
                    "name": check.name,
                    "ok": judgement.outcome == Outcome.PASS,
                    "reason": f"{check.name} {judgement.detail}.",
                }
            )
            if spec.url.lower().startswith("https://"):
                results.append(
                    _tls_result(check.name, fetched.tls_not_after, fetched.error, now, tls_min_days)
                )
        else:
            config = metric_config(check)
            # Pre-checks use the absolute bounds only: there is no baseline before a deploy.
            absolute = bounds_from(
                {**config, "baseline_delta": None, "baseline_ratio": None, "noise_floor": None}
            )
            judgement = judge_metric(reading, absolute, None)
            results.append(
                {
                    "kind": "metric",
                    "name": check.name,
                    "ok": judgement.outcome == Outcome.PASS,
                    "reason": f"{check.name}: {judgement.detail}.",
                }
            )
    return results


def _tls_result(
    name: str, not_after: datetime | None, error: str, now: datetime, min_days: int
) -> dict[str, Any]:
    if not_after is None:
        why = error or "no certificate was presented"
        return {
            "kind": "tls",
            "name": name,
            "ok": False,
            "reason": f"TLS certificate of {name}: {why}.",
        }
    days = (not_after - now).total_seconds() / 86400
    ok = days >= min_days
    return {
        "kind": "tls",
        "name": name,
        "ok": ok,
        "reason": f"TLS certificate of {name} is valid until {not_after:%Y-%m-%d} ({int(days)} days; "
        f"at least {min_days} needed).",
    }


def precheck_run(*, environment: Environment, actor: Any = None) -> Precheck | None:
    """Run the pre-deployment checks of ``environment`` now and store the result.

    Callers: the scheduler (``actor=None``) and deployers or admins from the
    page. Returns None when there is nothing to check. Not audited: a run
    changes no state, it is a measurement, kept in its own table.
    """
    if actor is not None:
        if not can_view_monitoring(actor, environment.project_id):
            raise NotFound("No such environment.")
        if not can_run_prechecks(actor, environment.project_id):
            raise role_refusal(
                Role.RELEASE_MANAGER, Role.ENGINEER, Role.ADMIN, to="run the pre-checks"
            )
    health, metrics = precheck_checks(environment)
    if not health and not metrics:
        return None
    policy = policy_for(environment)
    started = timezone.now()
    results = _run(health, metrics, policy.tls_min_days)
    failing = [r for r in results if not r["ok"]]
    summary = (
        " ".join(r["reason"] for r in failing)
        if failing
        else f"All {len(results)} pre-deployment checks passed."
    )
    with transaction.atomic():
        run = Precheck.objects.create(
            environment=environment,
            passed=not failing,
            results=results,
            summary=summary,
            started_at=started,
            finished_at=timezone.now(),
            triggered_by_label=actor.get_username() if actor is not None else "shipcheck",
        )
        old = Precheck.objects.filter(environment=environment).order_by("-finished_at", "-id")[
            KEEP_RUNS:
        ]
        Precheck.objects.filter(pk__in=list(old.values_list("pk", flat=True))).delete()
    return run


def precheck_refresh_due(*, now: datetime | None = None) -> int:
    """Scheduler: re-run the pre-checks of production environments whose latest run is getting old."""
    now = now or timezone.now()
    count = 0
    candidates = Environment.objects.filter(
        tier=Tier.PRODUCTION, health_checks__enabled=True
    ).distinct()
    for environment in candidates:
        latest = Precheck.objects.filter(environment=environment).order_by("-finished_at").first()
        stale = (
            latest is None
            or latest.finished_at <= now - REFRESH_EVERY
            or (not latest.passed and latest.finished_at <= now - RETRY_FAILED_AFTER)
        )
        if stale and precheck_run(environment=environment) is not None:
            count += 1
    return count


def precheck_latest(environment: Environment) -> Precheck | None:
    return Precheck.objects.filter(environment=environment).order_by("-finished_at", "-id").first()
