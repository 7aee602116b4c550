"""The load benchmark's data set: many projects of releases, built through the product's services.

Every row comes from the same services the pages and the API call, so the audit
trail is a real chain (``audit_verify`` passes) and the tables hold what a team's
would. Two shortcuts, both documented in docs/performance.md:

- promotions are checked against the core gates only (as ``seed_demo`` does),
  while the sign-offs, the scope approval and the two production approvals are
  still recorded through ``approval_decide``;
- a finished monitoring window's samples and verdicts are written as the demo writes
  its history (``demo.monitoring.history.history_window``: the rows the poller would have
  written, in one go instead of one tick at a time).

Building is idempotent: a project that already holds its releases is skipped,
so a second run of the benchmark reuses the data set.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

PEOPLE = (
    # username, roles held in every load project
    ("lr-rita", ("release_manager",)),
    ("lr-eli", ("engineer",)),
    ("lr-quinn", ("qa",)),
    ("lr-paula", ("product_owner",)),
    ("lr-adrian", ("approver",)),
    ("lr-ana", ("approver",)),
    ("lr-audrey", ("auditor",)),
    ("lr-adele", ("admin",)),
)
PASSWORD = "load"  # noqa: S105 - benchmark accounts on a throwaway database


@dataclass
class Scale:
    projects: int = 10
    releases_per_project: int = 300
    windows_every: int = 5  # one production monitoring window every n-th release
    samples_per_window: int = 30


def _people():
    from django.contrib.auth import get_user_model

    User = get_user_model()
    people = {}
    for username, _roles in PEOPLE:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": username[3:].capitalize(), "email": f"{username}@example.com"},
        )
        if created:
            user.set_password(PASSWORD)
            user.save(update_fields=["password"])
        people[username] = user
    return people


def _project(index: int, people: dict):
    from projects.models import Project
    from projects.services import membership_grant, project_create

    slug = f"load-{index:02d}"
    project = Project.objects.filter(slug=slug).first()
    if project is None:
        project = project_create(
            name=f"Load {index:02d}", slug=slug, actor=None, admins=[people["lr-adele"]]
        )
        for username, roles in PEOPLE:
            for role in roles:
                membership_grant(project=project, user=people[username], role=role)
    return project


def _window(deployment, scale: Scale) -> None:
    """A finished post-deploy window with samples and verdicts, as the demo writes its history."""

    from demo.monitoring import history
    from monitoring.choices import WindowKind

    start = deployment.finished_at or deployment.created_at
    history.history_window(
        deployment,
        WindowKind.POST_DEPLOY,
        start=start,
        minutes=scale.samples_per_window * 30 / 60,
        readings=history.ok_readings,
    )


def _checks(project, admin) -> None:
    """The demo's health and metric checks on each environment (so windows have checks)."""
    from demo.monitoring import checks

    for environment in project.environments.all():
        if environment.name in checks.PLANS:
            checks.configure(environment, admin)


def _history(project, scale: Scale) -> None:
    from django.db import transaction

    from monitoring.models import MonitoringWindow
    from releases.models import Deployment

    deployments = Deployment.objects.filter(
        release__project=project, environment__tier="production", status="succeeded"
    ).order_by("id")
    done = set(
        MonitoringWindow.objects.filter(deployment__in=deployments).values_list(
            "deployment_id", flat=True
        )
    )
    for number, deployment in enumerate(deployments):
        if number % scale.windows_every == 0 and deployment.pk not in done:
            with transaction.atomic():
                _window(deployment, scale)


def build(scale: Scale, *, out=print) -> dict:
    """Create (or find) the data set; return the people and projects for the driver."""
    from django.db import transaction
    from django.test.utils import override_settings

    from approvals.choices import ApprovalKind, Decision
    from approvals.services import approval_decide
    from releases.models import Release
    from releases.services import (
        deployment_finish,
        release_commits_add,
        release_create,
        release_promote,
        release_tickets_add,
    )

    people = _people()
    rng = random.Random(20261201)
    projects = []
    started = time.perf_counter()
    with override_settings(SHIPCHECK_GATE_APPS={"releases"}, CELERY_TASK_ALWAYS_EAGER=True):
        for index in range(1, scale.projects + 1):
            project = _project(index, people)
            projects.append(project)
            have = Release.objects.filter(project=project).count()
            environments = list(project.environments.order_by("order"))
            for number in range(have, scale.releases_per_project):
                version = f"{number // 100 + 1}.{number % 100}.0"
                with transaction.atomic():
                    release = release_create(
                        project=project,
                        version=version,
                        title=f"Release {version} of {project.name}",
                        actor=people["lr-rita"],
                        description="Routine release: fixes and small features.",
                        notes="## New\n- faster search\n- clearer receipts",
                        rollback_plan="Redeploy the previous artifact.",
                    )
                    release_tickets_add(
                        release=release,
                        tickets=[
                            {"key": f"LD-{index}{number}{t}", "title": f"Ticket {t} of {version}"}
                            for t in range(3)
                        ],
                        actor=people["lr-rita"],
                    )
                    release_commits_add(
                        release=release,
                        commits=[
                            {
                                "sha": f"{rng.getrandbits(160):040x}",
                                "message": f"Change {c} for {version}",
                            }
                            for c in range(4)
                        ],
                        actor=people["lr-rita"],
                    )
                # Most releases go all the way; the newest stop on the way, some fail.
                reach = (
                    len(environments)
                    if number < scale.releases_per_project - 20
                    else 1 + number % len(environments)
                )
                for position, environment in enumerate(environments[:reach]):
                    if environment.is_production:
                        approval_decide(
                            release=release,
                            kind=ApprovalKind.SCOPE,
                            decision=Decision.APPROVE,
                            actor=people["lr-paula"],
                        )
                        for approver in ("lr-adrian", "lr-ana"):
                            approval_decide(
                                release=release,
                                kind=ApprovalKind.DEPLOYMENT,
                                decision=Decision.APPROVE,
                                actor=people[approver],
                                environment=environment,
                            )
                    deployment = release_promote(
                        release=release, environment=environment, actor=people["lr-eli"]
                    )
                    failed = rng.random() < 0.04
                    deployment = deployment_finish(
                        deployment=deployment,
                        succeeded=not failed,
                        actor=people["lr-eli"],
                        reason="Smoke tests failed." if failed else "",
                    )
                    if failed:
                        break
                    if position < len(environments) - 1:
                        approval_decide(
                            release=release,
                            kind=ApprovalKind.QA_SIGNOFF,
                            decision=Decision.APPROVE,
                            actor=people["lr-quinn"],
                            environment=environment,
                        )
                if (number + 1) % 50 == 0:
                    out(
                        f"  {project.slug}: {number + 1} releases ({time.perf_counter() - started:.0f} s)"
                    )
            # As in the demo: checks are configured after the history was played, and the
            # windows that history implies are written afterwards (so none is left running).
            _checks(project, people["lr-adele"])
            _history(project, scale)
    return {"people": people, "projects": projects}
