"""Payments API: a second project with the same people, whose demo story is all monitoring.

Each release reaches production with its test run, sign-offs, two approvals
and a go/no-go (as in Storefront), all through the services; its monitoring
windows are then fed readings through the real polling services:

  1.4.0  canary passed, full rollout approved by Rita, post-deploy passed: released;
  1.4.1  canary failed on the error rate: deployment failed, rollback recommended;
  1.5.0  canary running now in production, polled live against the demo server.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Max
from django.test.utils import override_settings
from django.utils import timezone

from demo.approvals import cleared_for_production
from demo.checklists import tick_through
from demo.integrations import junit_report
from demo.monitoring.checks import HEALTHY, healthy_value
from demo.releases import DemoContext
from demo.timeline import story_shift
from integrations.services import test_run_record
from monitoring.choices import (
    BaselineStatus,
    CheckKind,
    DecisionAction,
    SampleStatus,
    WindowKind,
    WindowStatus,
)
from monitoring.models import Baseline, MonitoringWindow, Sample, WindowDecision
from monitoring.services import window_decide
from monitoring.services.polling import window_record
from monitoring.services.windows import window_conclude
from monitoring.verdicts import Reading
from projects.choices import Role
from projects.models import Environment, Project
from projects.services import membership_grant, project_create
from releases import services as releases
from releases.choices import DeploymentStrategy, ReleaseType
from releases.models import Deployment, Release

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


def payments_project(ctx: DemoContext) -> tuple[Project, bool]:
    """The Payments API project (created if missing) with the demo people in their roles."""
    project = Project.objects.filter(slug=PAYMENTS[1]).first()
    created = project is None
    if project is None:
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


def _finished_at(window: MonitoringWindow):
    """When the window really finished: its last reading (the services stamp the real clock)."""
    last = Sample.objects.filter(window_check__window=window).aggregate(last=Max("taken_at"))
    finished = last["last"] or window.ends_at
    MonitoringWindow.objects.filter(pk=window.pk).update(
        created_at=window.started_at, finished_at=finished, last_polled_at=finished
    )
    return finished


def _date_story(canary: MonitoringWindow, post: MonitoringWindow | None = None) -> None:
    """Date a release's story around its windows (written in the past, see ``_backdate``).

    What came before the canary (creation, ticks, tests, sign-offs, approvals, the go/no-go
    and the deployment's start) moves back so that the canary opens as the deployment starts;
    the decision and the deployment's finish follow the canary, and what was done after the
    post-deploy window (the production steps of the checklist) follows that window.
    """
    deployment = canary.deployment
    release = deployment.release
    assert deployment.started_at is not None
    now = timezone.now()
    if post is not None:
        verified = _finished_at(post)
        story_shift(
            release,
            verified + timedelta(minutes=5) - post.created_at,
            since=post.created_at,
            before=now,
        )
    story_shift(release, canary.started_at - deployment.started_at, before=canary.created_at)
    finished = _finished_at(canary)
    decided = finished + timedelta(minutes=2)
    WindowDecision.objects.filter(window=canary).update(created_at=decided)
    Deployment.objects.filter(pk=deployment.pk).update(
        created_at=canary.started_at,
        started_at=canary.started_at,
        finished_at=decided + timedelta(minutes=1) if post is not None else finished,
        verified_at=verified if post is not None else None,
    )


def _to_staging(release: Release, people) -> None:
    for name in ("dev", "staging"):
        environment = Environment.objects.get(project=release.project, name=name)
        deployment = releases.release_promote(
            release=release, environment=environment, actor=people["eli"]
        )
        releases.deployment_finish(deployment=deployment, succeeded=True, actor=people["eli"])


def _canary(release: Release, people) -> MonitoringWindow:
    """Tests, sign-offs, approvals and the go/no-go first, as for Storefront; then the canary."""
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


def payments_story(project: Project, people: dict[str, User]) -> list[str]:
    """Play the releases of Payments API that are missing; return what was made."""
    rng = random.Random(7)

    def healthy(check, slot):
        if check.kind == CheckKind.HEALTH:
            return Reading(
                SampleStatus.OK, value=1.0, http_status=200, latency_ms=round(rng.uniform(8, 20), 1)
            )
        return Reading(
            SampleStatus.OK, value=healthy_value(check.name, rng), http_status=200, latency_ms=9.0
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
                # Its checklist moves with it: the branch before staging, then everything up
                # to production before the canary ...
                tick_through(release, {1: 0}, people, storefront=True)
                _to_staging(release, people)
                tick_through(release, {4: 0}, people, storefront=True)
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
                post = _feed(_backdate(post, now - timedelta(hours=4, minutes=40)), healthy)
                # ... and the production steps once it is deployed and watched.
                tick_through(release, "all", people, storefront=True)
                _date_story(canary, post)
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
                _date_story(
                    _feed(
                        _backdate(_canary(release, people), now - timedelta(hours=2)), errors_spike
                    )
                )
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
