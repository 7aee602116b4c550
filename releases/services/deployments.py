"""Deployments: promote a release into an environment (through its gates), finish, roll back."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from core.exceptions import NotFound, ValidationFailed
from core.transitions import transition_check
from projects.models import Environment
from projects.principals import Actor
from releases.choices import (
    DEPLOYMENT_TRANSITIONS,
    RELEASE_TRANSITIONS,
    DeploymentStatus,
    DeploymentStrategy,
    ReleaseStatus,
)
from releases.exceptions import GateBlocked
from releases.gates import gate_evaluate
from releases.models import Deployment, Release
from releases.registry import emit, holds
from releases.services._common import (
    actor_label,
    check_text,
    lock_release,
    person,
    transition_release,
)
from releases.services.authorize import release_authorize


@transaction.atomic
def release_promote(
    *,
    release: Release,
    environment: Environment,
    actor: Actor,
    strategy: str = DeploymentStrategy.ALL_AT_ONCE,
    artifact_version: str = "",
    commit_sha: str = "",
    notes: str = "",
) -> Deployment:
    """Start a deployment of ``release`` into ``environment`` if every gate is open.

    Locks the environment row so concurrent promotions serialise and the gates
    are evaluated against committed state. Raises ``GateBlocked`` (nothing
    changed) with every closed gate's reason.
    Audit: ``deployment.started`` (and ``release.status_changed`` on the first one).
    Listeners: ``deployment_changed``.
    """
    release_authorize(release=release, actor=actor, action="deploy")
    if environment.project_id != release.project_id:
        raise NotFound("No such environment in this project.")
    if strategy not in DeploymentStrategy.values:
        raise ValidationFailed(
            f"Unknown strategy '{strategy}'. Choose one of {', '.join(DeploymentStrategy.values)}."
        )
    environment = Environment.objects.select_for_update().get(pk=environment.pk)
    release = lock_release(release)
    report = gate_evaluate(release=release, environment=environment)
    if not report.is_open:
        raise GateBlocked(report)
    now = timezone.now()
    deployment = Deployment.objects.create(
        release=release,
        environment=environment,
        status=DeploymentStatus.IN_PROGRESS,
        strategy=strategy,
        deployed_by=person(actor),
        deployed_by_label=actor_label(actor),
        artifact_version=check_text(
            artifact_version or release.artifact_version, "Artifact version", 120
        ),
        commit_sha=check_text(commit_sha or release.commit_sha, "Commit", 64),
        notes=check_text(notes, "Notes", 5000),
        started_at=now,
    )
    waived = [g.as_dict() for g in report.gates if g.state == "waived"]
    audit_record(
        actor=actor,
        action="deployment.started",
        obj=deployment,
        project=release.project_id,
        release=release,
        from_state="",
        to_state=deployment.status,
        data={
            "environment": environment.name,
            "strategy": strategy,
            "artifact_version": deployment.artifact_version,
            "commit_sha": deployment.commit_sha,
            "waived_gates": waived,
        },
    )
    if release.status in (ReleaseStatus.PLANNED, ReleaseStatus.ROLLED_BACK):
        transition_release(
            release=release,
            to_status=ReleaseStatus.IN_PROGRESS,
            actor=actor,
            reason=f"Deployment to {environment} started.",
        )
    else:
        # A deployment starting is a change of the release: its "Updated" says so.
        Release.objects.filter(pk=release.pk).update(updated_at=now)
        release.updated_at = now
    emit(
        "deployment_changed",
        deployment=deployment,
        actor=actor,
        from_status="",
        to_status=deployment.status,
    )
    return deployment


def _transition_deployment(
    *, deployment: Deployment, to_status: str, actor: Actor, reason: str
) -> Deployment:
    deployment = (
        Deployment.objects.select_for_update()
        .select_related("release", "environment")
        .get(pk=deployment.pk)
    )
    from_status = deployment.status
    transition_check(
        transitions=DEPLOYMENT_TRANSITIONS,
        choices=DeploymentStatus,
        noun="deployment",
        from_state=from_status,
        to_state=to_status,
    )
    deployment.status = to_status
    if (
        to_status in (DeploymentStatus.SUCCEEDED, DeploymentStatus.FAILED)
        and deployment.finished_at is None
    ):
        deployment.finished_at = timezone.now()
    deployment.save(update_fields=["status", "finished_at"])
    release = deployment.release
    audit_record(
        actor=actor,
        action=f"deployment.{to_status}",
        obj=deployment,
        project=release.project_id,
        release=release,
        from_state=from_status,
        to_state=to_status,
        reason=reason,
        data={"environment": deployment.environment.name},
    )
    emit(
        "deployment_changed",
        deployment=deployment,
        actor=actor,
        from_status=from_status,
        to_status=to_status,
    )
    return deployment


@transaction.atomic
def deployment_finish(
    *, deployment: Deployment, succeeded: bool, actor: Actor, reason: str = ""
) -> Deployment:
    """Record the outcome of a running deployment.

    A successful production deployment marks the release *released*, unless a
    registered hold (post-deploy monitoring) keeps it open for verification.
    Audit: ``deployment.succeeded`` / ``deployment.failed``. ``actor=None`` is
    Shipcheck itself (monitoring failing a deployment after a failed window).
    """
    release_authorize(release=deployment.release, actor=actor, action="finish")
    reason = check_text(reason, "Reason", 2000)
    to_status = DeploymentStatus.SUCCEEDED if succeeded else DeploymentStatus.FAILED
    deployment = _transition_deployment(
        deployment=deployment, to_status=to_status, actor=actor, reason=reason
    )
    if succeeded and deployment.environment.is_production:
        held = [why for hold in holds() if (why := hold(deployment))]
        if not held:
            release = lock_release(deployment.release)
            if release.status == ReleaseStatus.IN_PROGRESS:
                transition_release(
                    release=release,
                    to_status=ReleaseStatus.RELEASED,
                    actor=actor,
                    reason=f"Deployed to {deployment.environment}.",
                )
            deployment.release = release
    return deployment


@transaction.atomic
def deployment_rollback(*, deployment: Deployment, actor: Actor, reason: str) -> Deployment:
    """Record that a deployment was rolled back; a production rollback rolls back the release.

    Audit: ``deployment.rolled_back`` (and ``release.status_changed``).
    """
    release_authorize(release=deployment.release, actor=actor, action="rollback")
    reason = check_text(reason, "Reason", 2000).strip()
    if not reason:
        raise ValidationFailed("Say why the deployment is rolled back.")
    deployment = _transition_deployment(
        deployment=deployment, to_status=DeploymentStatus.ROLLED_BACK, actor=actor, reason=reason
    )
    if deployment.environment.is_production:
        release = lock_release(deployment.release)
        if ReleaseStatus.ROLLED_BACK in RELEASE_TRANSITIONS[release.status]:
            transition_release(
                release=release, to_status=ReleaseStatus.ROLLED_BACK, actor=actor, reason=reason
            )
        deployment.release = release
    return deployment
