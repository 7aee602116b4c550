"""Three months of delivery history, so the metrics dashboard has believable figures.

The Search project ships about twice a week: 36 releases over the last 90 days, each
through dev, staging and production, with 2 to 6 commits written hours to days before.
Two production deployments are rolled back (the second is followed by a hotfix), one fails
and is redeployed, two incidents are opened and resolved (one caused by a deployment) and
three defects escape. Everything goes through the services; the deployments' times are
then moved into the past by updating their rows (the services stamp the real clock), as
the tests do (and the stored first production deployments of the commits are then
recomputed). Rita runs Search beside Storefront (Eli engineers, Quinn tests, Adele is its
admin), so her dashboard shows both. The auditor is not a member: the release-history report
stays Storefront's and Mobile App's.

A second run finds the project and creates nothing.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from demo.checklists import tick_through
from demo.releases import DemoContext
from incidents.services import escaped_defect_record, incident_open, incident_resolve
from metrics.firsts import firsts_rebuild
from projects.choices import Role
from projects.models import Project
from projects.services import membership_grant, project_create
from releases import services
from releases.models import Deployment

PROJECT = ("Search", "search", "Product search: the index, ranking and the suggestions API.")
RELEASES = 36
DAYS = 90
ROLLED_BACK = {9, 24}
FAILED = {16}
HOTFIX_AFTER = 24


def _move(deployment: Deployment, start, minutes: float) -> None:
    Deployment.objects.filter(pk=deployment.pk).update(
        started_at=start, finished_at=start + timedelta(minutes=minutes)
    )


def _deploy(release, env, actor, start, minutes, ok=True) -> Deployment:
    deployment = services.release_promote(release=release, environment=env, actor=actor)
    deployment = services.deployment_finish(deployment=deployment, succeeded=ok, actor=actor)
    _move(deployment, start, minutes)
    return deployment


def seed(ctx: DemoContext) -> None:
    if Project.objects.filter(slug=PROJECT[1]).exists():
        return
    people = ctx.people
    rita = people["rita"]  # the release manager who ships Search
    rng = random.Random(19)  # the same history on every machine
    now = timezone.now()
    with transaction.atomic(), override_settings(SHIPCHECK_GATE_APPS={"releases"}):
        project = project_create(
            name=PROJECT[0],
            slug=PROJECT[1],
            description=PROJECT[2],
            actor=None,
            admins=[people["adele"]],
        )
        for username, role in (
            ("rita", Role.RELEASE_MANAGER),
            ("eli", Role.ENGINEER),
            ("quinn", Role.QA),
        ):
            membership_grant(project=project, user=people[username], role=role)
        envs = {e.name: e for e in project.environments.all()}
        shipped: dict[int, tuple] = {}
        for n in range(1, RELEASES + 1):
            start = now - timedelta(days=DAYS) + timedelta(days=n * DAYS / (RELEASES + 2))
            start = start.replace(hour=9 + rng.randrange(8), minute=rng.randrange(60))
            hotfix = n == HOTFIX_AFTER + 1
            release = services.release_create(
                project=project,
                version=f"4.{n}.0" if not hotfix else f"4.{n - 1}.1",
                title="Fix the ranking regression" if hotfix else f"Search improvements {n}",
                type="hotfix" if hotfix else "minor",
                actor=rita,
                rollback_plan="Redeploy the previous index build and switch the alias back.",
            )
            if hotfix:
                start = shipped[HOTFIX_AFTER][1] + timedelta(hours=3)
            commits = [
                {
                    "sha": f"{n:03x}{i:x}" + f"{rng.getrandbits(64):016x}"[:12],
                    "message": f"Search change {n}.{i}",
                    "author": "Eli Okafor",
                    "committed_at": start - timedelta(hours=rng.uniform(2, 70)),
                }
                for i in range(rng.randint(2, 6))
            ]
            services.release_commits_add(release=release, commits=commits, actor=rita)
            _deploy(release, envs["dev"], rita, start - timedelta(hours=5), 4)
            _deploy(release, envs["staging"], rita, start - timedelta(hours=rng.uniform(2, 4)), 8)
            # Each release's checklist moves with it: done up to production before it goes out ...
            tick_through(release, {4: 0}, people, storefront=True)
            minutes = rng.uniform(4, 14)
            if n in FAILED:
                _deploy(release, envs["production"], rita, start, minutes, ok=False)
                start += timedelta(minutes=50)
            deployment = _deploy(release, envs["production"], rita, start, minutes)
            if n in ROLLED_BACK:
                services.deployment_rollback(
                    deployment=deployment, actor=rita, reason="Search results degraded."
                )
            # ... and the production steps once it runs there.
            tick_through(release, "all", people, storefront=True)
            shipped[n] = (release, start + timedelta(minutes=minutes), deployment)
        release, finished, cause = shipped[HOTFIX_AFTER]
        incident = incident_open(
            actor=rita,
            project=project,
            title="Irrelevant results for multi-word queries",
            severity=2,
            started_at=finished + timedelta(minutes=35),
            environment=envs["production"],
            cause_deployment=cause,
        )
        incident_resolve(
            actor=rita, incident=incident, resolved_at=finished + timedelta(hours=3, minutes=20)
        )
        other = incident_open(
            actor=rita,
            project=project,
            title="Suggestions API timeouts",
            severity=3,
            started_at=shipped[30][1] + timedelta(days=1, hours=2),
            environment=envs["production"],
            propose_cause=False,
        )
        incident_resolve(
            actor=rita,
            incident=other,
            resolved_at=shipped[30][1] + timedelta(days=1, hours=2, minutes=50),
        )
        for n, key, severity in ((12, "SRCH-812", 3), (24, "SRCH-840", 2), (31, "SRCH-877", 4)):
            escaped_defect_record(
                actor=people["quinn"],
                release=shipped[n][0],
                key=key,
                severity=severity,
                found_at=shipped[n][1] + timedelta(days=2),
                title="Found in production after the release",
            )
        # The deployments moved into the past after they succeeded: metrics recomputes the
        # commits' first production deployments from the moved rows (as a backfill would).
        firsts_rebuild([project.pk])
    if ctx.stdout is not None:
        ctx.stdout.write(f"Delivery history: {RELEASES} Search releases over {DAYS} days.")
