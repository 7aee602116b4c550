"""Writes that pipelines make: releases by version, deployment reports, test results.

Releases, commits, tickets and deployments go through ``releases.services``
so every rule and audit event stays in one place; this module adds what a
pipeline needs on top (create-or-get by version, "finish the running
deployment") and owns test-run recording.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from core.exceptions import Conflict, ValidationFailed
from integrations.junit import junit_parse
from integrations.models import IdempotencyKey
from integrations.permissions import can_record_test_results, test_results_refusal
from integrations.selectors import ci_running_deployment
from projects.models import Environment, Project
from projects.permissions import can_create_release, can_view_project, release_creation_refusal
from projects.principals import Actor, TokenPrincipal
from releases.exceptions import DuplicateVersion, GateBlocked
from releases.models import Deployment, Release, TestRun
from releases.registry import emit
from releases.services import deployment_finish, release_create, release_promote
from releases.versions import version_parse


class DeploymentOutcome:
    STARTED = "started"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CHOICES = (STARTED, SUCCEEDED, FAILED)


def _release_manager_for(*, project: Project, actor: Actor, username: str | None) -> User | None:
    """Who manages a release a pipeline creates: the named member, else the token's creator."""
    if username:
        user = get_user_model().objects.filter(username=username).first()
        if user is None or not can_view_project(user, project):
            raise ValidationFailed(
                f"'{username[:150]}' is not a member of {project}.",
                details={"release_manager": ["Name a member of the project by username."]},
            )
        return user
    if isinstance(actor, TokenPrincipal):
        creator = actor.api_token.created_by
        if creator is not None and creator.is_active and can_view_project(creator, project):
            return creator
        raise ValidationFailed(
            "Name the release manager: pass 'release_manager' with the username of a project member.",
            details={
                "release_manager": ["This token has no creator in the project to fall back on."]
            },
        )
    return None  # a person: release_create makes them the release manager


def ci_release_ensure(
    *,
    project: Project,
    version: str,
    actor: Actor,
    release_manager: str | None = None,
    **fields: Any,
) -> tuple[Release, bool]:
    """Create the release with this version, or return the one that exists: (release, created).

    Safe to repeat and to race: a concurrent create of the same version loses
    on the unique constraint and answers the winner's release. An existing
    release is returned unchanged (fields sent again are not applied).
    Audit (on creation only): ``release.created`` via ``releases.services.release_create``.
    """
    normalised, *_ = version_parse(version)
    existing = Release.objects.filter(project=project, version=normalised).first()
    if existing is not None:
        # Same answer as for a new version: only those who may create releases learn it exists.
        if not can_create_release(actor, project):
            raise release_creation_refusal()
        return existing, False
    manager = _release_manager_for(project=project, actor=actor, username=release_manager)
    fields = {k: v for k, v in fields.items() if v is not None}
    fields.setdefault("title", "")
    if not fields["title"].strip():
        fields["title"] = f"Release {normalised}"
    try:
        release = release_create(
            project=project, version=normalised, actor=actor, release_manager=manager, **fields
        )
    except DuplicateVersion:
        existing = Release.objects.filter(project=project, version=normalised).first()
        if existing is None:
            raise
        return existing, False
    return release, True


def _same_commit(a: str, b: str) -> bool:
    a, b = a.lower(), b.lower()
    return a.startswith(b) or b.startswith(a)


def ci_deployment_report(
    *,
    release: Release,
    environment: Environment,
    outcome: str,
    actor: Actor,
    artifact_version: str = "",
    commit_sha: str = "",
    strategy: str = "",
    notes: str = "",
    reason: str = "",
) -> tuple[Deployment, bool]:
    """Record that a deployment started, succeeded or failed: (deployment, created).

    ``started`` promotes the release (every gate must be open, see
    ``release_promote``), with ``notes``. ``succeeded`` and ``failed`` finish the
    deployment of this release that is running in ``environment``, with
    ``reason``; if the pipeline names an artifact or commit, it must be the one
    that deployment started with.
    Audit: ``deployment.started`` / ``deployment.succeeded`` / ``deployment.failed``.
    """
    if outcome == DeploymentOutcome.STARTED:
        extra = {"strategy": strategy} if strategy else {}
        try:
            deployment = release_promote(
                release=release,
                environment=environment,
                actor=actor,
                artifact_version=artifact_version,
                commit_sha=commit_sha,
                notes=notes,
                **extra,
            )
        except GateBlocked as refused:
            # The pipeline may have deployed anyway: apps that must keep such a report (a
            # deployment during a freeze) record it; the pipeline still gets the 409.
            with transaction.atomic():
                emit(
                    "deployment_refused",
                    release=release,
                    environment=environment,
                    actor=actor,
                    report=refused.report,
                )
            raise
        return deployment, True
    if outcome not in DeploymentOutcome.CHOICES:
        raise ValidationFailed(
            f"Unknown outcome '{outcome[:20]}'; use started, succeeded or failed."
        )
    running = ci_running_deployment(release=release, environment=environment)
    if running is None:
        raise Conflict(
            f"No deployment of {release.version} is running in {environment}; "
            "report it as started before reporting how it ended.",
            code="no_running_deployment",
        )
    if (
        artifact_version
        and running.artifact_version
        and artifact_version != running.artifact_version
    ):
        raise Conflict(
            f"The deployment running in {environment} is of artifact {running.artifact_version}, "
            f"not {artifact_version}.",
            code="artifact_mismatch",
        )
    if commit_sha and running.commit_sha and not _same_commit(commit_sha, running.commit_sha):
        raise Conflict(
            f"The deployment running in {environment} is of commit {running.commit_sha[:12]}, "
            f"not {commit_sha[:12]}.",
            code="artifact_mismatch",
        )
    deployment = deployment_finish(
        deployment=running,
        succeeded=outcome == DeploymentOutcome.SUCCEEDED,
        actor=actor,
        reason=reason,
    )
    return deployment, False


@transaction.atomic
def test_run_record(
    *,
    release: Release,
    actor: Actor,
    junit_xml: str | bytes,
    name: str = "",
    environment: Environment | None = None,
    coverage_percent: float | None = None,
) -> TestRun:
    """Parse a JUnit XML report and store its summary as a test run of ``release``.

    Callers: see ``can_record_test_results`` (QA, engineers, release managers,
    admins, tokens with the test_results scope). Nothing is stored when the
    report does not parse. Audit: ``test_run.recorded``.
    """
    if not can_record_test_results(actor, release):
        raise test_results_refusal()
    if environment is not None and environment.project_id != release.project_id:
        raise ValidationFailed("That environment belongs to another project.")
    if coverage_percent is not None:
        if isinstance(coverage_percent, bool) or not isinstance(coverage_percent, int | float):
            raise ValidationFailed("Coverage is a percentage between 0 and 100.")
        if not math.isfinite(coverage_percent) or not 0 <= coverage_percent <= 100:
            raise ValidationFailed("Coverage is a percentage between 0 and 100.")
    summary = junit_parse(junit_xml)
    name = (name or "").strip() or summary.name or "tests"
    if len(name) > 200 or "\x00" in name:
        raise ValidationFailed("A test run name is at most 200 characters.")
    label = actor.get_username() if actor is not None else "shipcheck"
    test_run = TestRun.objects.create(
        release=release,
        environment=environment,
        name=name,
        total=summary.total,
        failures=summary.failures,
        errors=summary.errors,
        skipped=summary.skipped,
        duration_seconds=summary.duration_seconds,
        failing_tests=summary.failing_tests,
        coverage_percent=coverage_percent,
        recorded_by_label=label[:200],
    )
    audit_record(
        actor=actor,
        action="test_run.recorded",
        obj=test_run,
        project=release.project_id,
        release=release,
        to_state="passed" if test_run.ok else "failed",
        data={
            "name": name,
            "environment": environment.name if environment else None,
            "total": summary.total,
            "failures": summary.failures,
            "errors": summary.errors,
            "skipped": summary.skipped,
            "duration_seconds": summary.duration_seconds,
            "coverage_percent": coverage_percent,
            "failing_tests": summary.failing_tests[:20],
        },
    )
    return test_run


def idempotency_keys_purge(*, older_than: timedelta) -> int:
    """Forget idempotency keys (and their stored answers) older than ``older_than``. Returns the count."""
    cutoff = timezone.now() - older_than
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
