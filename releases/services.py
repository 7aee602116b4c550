"""Every write to releases and deployments.

Each service: checks permission and rule, locks what it changes, writes the
audit event in the same transaction, lets registered listeners react inside
it (``releases.registry``), and leaves side effects to ``on_commit``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import audit_record
from core.exceptions import NotFound, TransitionNotAllowed, ValidationFailed
from core.transitions import transition_check
from projects.choices import Role, TokenScope
from projects.models import Environment, Project
from projects.permissions import (
    can_create_release,
    can_deploy,
    can_manage_release,
    can_view_project,
    release_creation_refusal,
    role_refusal,
)
from projects.principals import is_token
from releases.choices import (
    DEPLOYMENT_TRANSITIONS,
    RELEASE_TRANSITIONS,
    DeploymentStatus,
    DeploymentStrategy,
    ReleaseStatus,
    ReleaseType,
)
from releases.exceptions import DuplicateVersion, GateBlocked
from releases.gates import gate_evaluate
from releases.models import Commit, Deployment, Release, Ticket
from releases.registry import emit, holds
from releases.versions import version_parse

EDITABLE_FIELDS = (
    "title",
    "description",
    "notes",
    "rollback_plan",
    "target_date",
    "type",
    "release_manager",
    "artifact_version",
    "commit_sha",
    "version",
)
ARTIFACT_FIELDS = ("version", "artifact_version", "commit_sha")


# What each action on a release needs: the predicate, the roles it names in the refusal
# (``role_refusal``), what the person tried, and the scope a token needs. Services check it
# first; views call ``release_authorize`` before reading a form, so someone without the
# right is refused (403 ``role_not_held``) whatever they send, never shown a form error.
_DEPLOYERS = (Role.RELEASE_MANAGER, Role.ENGINEER, Role.ADMIN)
_MANAGERS = (Role.RELEASE_MANAGER, Role.ADMIN)
_RIGHTS = {
    "edit": (can_manage_release, _MANAGERS, "edit this release", TokenScope.RELEASES),
    "cancel": (can_manage_release, _MANAGERS, "cancel this release", TokenScope.RELEASES),
    "deploy": (can_deploy, _DEPLOYERS, "deploy this release", TokenScope.DEPLOYMENTS),
    "finish": (
        can_deploy,
        _DEPLOYERS,
        "record how a deployment of this release ended",
        TokenScope.DEPLOYMENTS,
    ),
    "rollback": (
        can_deploy,
        _DEPLOYERS,
        "roll back a deployment of this release",
        TokenScope.DEPLOYMENTS,
    ),
    "scope": (
        can_manage_release,
        _MANAGERS,
        "change the scope of this release",
        TokenScope.RELEASES,
    ),
    "commits": (
        can_manage_release,
        _MANAGERS,
        "attach commits to this release",
        TokenScope.RELEASES,
    ),
}


def release_authorize(*, release: Release, actor, action: str) -> None:
    """Raise PermissionDenied unless ``actor`` may do ``action`` (a key of _RIGHTS) to ``release``.

    ``actor=None`` is Shipcheck itself, which may do anything.
    """
    allowed, roles, doing, scope = _RIGHTS[action]
    if actor is not None and not allowed(actor, release):
        raise role_refusal(*roles, to=doing, token_scope=scope)


def _person(actor):
    return (
        actor if actor is not None and not is_token(actor) and getattr(actor, "pk", None) else None
    )


def _actor_label(actor) -> str:
    if actor is None:
        return "shipcheck"
    return actor.get_username()


def _check_text(value: str, field: str, max_length: int | None = None) -> str:
    value = value or ""
    if "\x00" in value:
        raise ValidationFailed(f"{field} contains a NUL character, which is not allowed.")
    if max_length and len(value) > max_length:
        raise ValidationFailed(f"{field} is longer than {max_length} characters.")
    return value


def _lock_release(release: Release) -> Release:
    return Release.objects.select_for_update().get(pk=release.pk)


def _transition_release(
    *, release: Release, to_status: str, actor, reason: str = "", data: dict | None = None
) -> None:
    """Move a locked release to ``to_status`` along the transition map, with its audit event."""
    from_status = release.status
    if from_status == to_status:
        return
    transition_check(
        transitions=RELEASE_TRANSITIONS,
        choices=ReleaseStatus,
        noun="release",
        from_state=from_status,
        to_state=to_status,
    )
    release.status = to_status
    release.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        action="release.status_changed",
        obj=release,
        project=release.project_id,
        release=release,
        from_state=from_status,
        to_state=to_status,
        reason=reason,
        data=data,
    )
    emit(
        "release_status_changed",
        release=release,
        actor=actor,
        from_status=from_status,
        to_status=to_status,
    )


@transaction.atomic
def release_create(
    *,
    project: Project,
    version: str,
    title: str,
    actor,
    type: str = ReleaseType.MINOR,
    description: str = "",
    notes: str = "",
    rollback_plan: str = "",
    release_manager=None,
    target_date: date | None = None,
    artifact_version: str = "",
    commit_sha: str = "",
) -> Release:
    """Create a planned release.

    Callers: release managers, engineers, admins, tokens with the releases scope.
    A token's release records the token and, as ``created_by``, the person who
    owns the token (``Release.author_ids`` says who counts as its author).
    Audit: ``release.created``. Listeners: ``release_created`` (checklists copy a template).
    """
    if not can_view_project(actor, project):
        raise NotFound("No such project.")
    if project.archived_at is not None:
        raise TransitionNotAllowed(
            f"The project {project.name} is archived: it takes no new releases.",
            code="project_archived",
        )
    if not can_create_release(actor, project):
        raise release_creation_refusal()
    normalised, major, minor, patch = version_parse(version)
    if type not in ReleaseType.values:
        raise ValidationFailed(
            f"Unknown release type '{type}'. Choose one of {', '.join(ReleaseType.values)}."
        )
    title = _check_text(title, "Title", 200).strip()
    if not title:
        raise ValidationFailed("A release needs a title.")
    manager = release_manager or _person(actor)
    if manager is None:
        raise ValidationFailed("Name the release manager of this release.")
    if not can_view_project(manager, project):
        raise ValidationFailed(f"{manager.get_username()} is not a member of {project}.")
    if Release.objects.filter(project=project, version=normalised).exists():
        raise DuplicateVersion(f"Version {normalised} already exists in {project}.")
    token = actor.api_token if is_token(actor) else None
    # A pipeline's release is created by its token on behalf of the token's owner.
    creator = token.created_by if token is not None else _person(actor)
    try:
        with transaction.atomic():
            release = Release.objects.create(
                project=project,
                version=normalised,
                version_major=major,
                version_minor=minor,
                version_patch=patch,
                type=type,
                title=title,
                description=_check_text(description, "Description"),
                notes=_check_text(notes, "Notes"),
                rollback_plan=_check_text(rollback_plan, "Rollback plan"),
                release_manager=manager,
                created_by=creator,
                created_by_token=token,
                created_by_token_name=token.name if token is not None else "",
                target_date=target_date,
                artifact_version=_check_text(artifact_version, "Artifact version", 120),
                commit_sha=_check_text(commit_sha, "Commit", 64),
            )
    except IntegrityError:
        raise DuplicateVersion(f"Version {normalised} already exists in {project}.") from None
    audit_record(
        actor=actor,
        action="release.created",
        obj=release,
        project=project,
        release=release,
        to_state=release.status,
        data={
            "version": normalised,
            "type": type,
            "title": title,
            "release_manager": manager.get_username(),
            "created_by": creator.get_username() if creator is not None else None,
            "created_by_token": token.name if token is not None else None,
        },
    )
    emit("release_created", release=release, actor=actor)
    return release


@transaction.atomic
def release_update(*, release: Release, actor, **changes: Any) -> Release:
    """Edit a release's fields.

    Callers: see ``can_manage_release``. Audit: ``release.updated`` with the
    changed fields. A changed version, artifact or commit emits ``artifact_changed``
    (approvals given for the old artifact are invalidated).
    """
    release_authorize(release=release, actor=actor, action="edit")
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(f"These fields cannot be edited: {', '.join(sorted(unknown))}.")
    release = _lock_release(release)
    if release.status == ReleaseStatus.CANCELLED:
        raise TransitionNotAllowed("A cancelled release cannot be edited.")
    diff: dict[str, tuple] = {}
    for name, value in changes.items():
        if name == "version":
            value, major, minor, patch = version_parse(value)
            if (
                value != release.version
                and Release.objects.filter(project_id=release.project_id, version=value).exists()
            ):
                raise DuplicateVersion(f"Version {value} already exists in this project.")
            release.version_major, release.version_minor, release.version_patch = (
                major,
                minor,
                patch,
            )
        elif name == "type" and value not in ReleaseType.values:
            raise ValidationFailed(f"Unknown release type '{value}'.")
        elif name == "release_manager":
            if value is None or not can_view_project(value, release.project_id):
                raise ValidationFailed("The release manager must be a member of this project.")
        elif name == "title":
            value = _check_text(value, "Title", 200).strip()
            if not value:
                raise ValidationFailed("A release needs a title.")
        elif isinstance(value, str):
            value = _check_text(value, name.replace("_", " ").capitalize())
        old = getattr(release, name)
        if old != value:
            diff[name] = (old, value)
            setattr(release, name, value)
    if not diff:
        return release
    release.save()
    printable = {
        k: [getattr(o, "username", o) if not isinstance(o, date) else o.isoformat() for o in pair]
        for k, pair in diff.items()
    }
    audit_record(
        actor=actor,
        action="release.updated",
        obj=release,
        project=release.project_id,
        release=release,
        data={"changes": printable},
    )
    emit("release_changed", release=release, actor=actor, changes=diff)
    artifact = [f for f in ARTIFACT_FIELDS if f in diff]
    if artifact:
        emit(
            "artifact_changed",
            release=release,
            actor=actor,
            reason="Changed " + ", ".join(f.replace("_", " ") for f in artifact) + ".",
        )
    return release


@transaction.atomic
def release_cancel(*, release: Release, actor, reason: str) -> Release:
    """Cancel a release that is not yet released. Audit: ``release.status_changed``."""
    release_authorize(release=release, actor=actor, action="cancel")
    reason = _check_text(reason, "Reason", 2000).strip()
    if not reason:
        raise ValidationFailed("Say why the release is cancelled.")
    release = _lock_release(release)
    if Deployment.objects.filter(
        release=release, status__in=[DeploymentStatus.PENDING, DeploymentStatus.IN_PROGRESS]
    ).exists():
        raise TransitionNotAllowed(
            "Finish or fail the running deployment before cancelling the release."
        )
    _transition_release(
        release=release, to_status=ReleaseStatus.CANCELLED, actor=actor, reason=reason
    )
    return release


@transaction.atomic
def release_mark_released(*, release: Release, actor, reason: str = "") -> Release:
    """Mark a release released (production accepted it). Used by monitoring after verification."""
    release = _lock_release(release)
    _transition_release(
        release=release, to_status=ReleaseStatus.RELEASED, actor=actor, reason=reason
    )
    return release


@transaction.atomic
def release_promote(
    *,
    release: Release,
    environment: Environment,
    actor,
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
    release = _lock_release(release)
    report = gate_evaluate(release=release, environment=environment)
    if not report.is_open:
        raise GateBlocked(report)
    now = timezone.now()
    deployment = Deployment.objects.create(
        release=release,
        environment=environment,
        status=DeploymentStatus.IN_PROGRESS,
        strategy=strategy,
        deployed_by=_person(actor),
        deployed_by_label=_actor_label(actor),
        artifact_version=_check_text(
            artifact_version or release.artifact_version, "Artifact version", 120
        ),
        commit_sha=_check_text(commit_sha or release.commit_sha, "Commit", 64),
        notes=_check_text(notes, "Notes", 5000),
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
        _transition_release(
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
    *, deployment: Deployment, to_status: str, actor, reason: str
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
    *, deployment: Deployment, succeeded: bool, actor, reason: str = ""
) -> Deployment:
    """Record the outcome of a running deployment.

    A successful production deployment marks the release *released*, unless a
    registered hold (post-deploy monitoring) keeps it open for verification.
    Audit: ``deployment.succeeded`` / ``deployment.failed``. ``actor=None`` is
    Shipcheck itself (monitoring failing a deployment after a failed window).
    """
    release_authorize(release=deployment.release, actor=actor, action="finish")
    reason = _check_text(reason, "Reason", 2000)
    to_status = DeploymentStatus.SUCCEEDED if succeeded else DeploymentStatus.FAILED
    deployment = _transition_deployment(
        deployment=deployment, to_status=to_status, actor=actor, reason=reason
    )
    if succeeded and deployment.environment.is_production:
        held = [why for hold in holds() if (why := hold(deployment))]
        if not held:
            release = _lock_release(deployment.release)
            if release.status == ReleaseStatus.IN_PROGRESS:
                _transition_release(
                    release=release,
                    to_status=ReleaseStatus.RELEASED,
                    actor=actor,
                    reason=f"Deployed to {deployment.environment}.",
                )
            deployment.release = release
    return deployment


@transaction.atomic
def deployment_rollback(*, deployment: Deployment, actor, reason: str) -> Deployment:
    """Record that a deployment was rolled back; a production rollback rolls back the release.

    Audit: ``deployment.rolled_back`` (and ``release.status_changed``).
    """
    release_authorize(release=deployment.release, actor=actor, action="rollback")
    reason = _check_text(reason, "Reason", 2000).strip()
    if not reason:
        raise ValidationFailed("Say why the deployment is rolled back.")
    deployment = _transition_deployment(
        deployment=deployment, to_status=DeploymentStatus.ROLLED_BACK, actor=actor, reason=reason
    )
    if deployment.environment.is_production:
        release = _lock_release(deployment.release)
        if ReleaseStatus.ROLLED_BACK in RELEASE_TRANSITIONS[release.status]:
            _transition_release(
                release=release, to_status=ReleaseStatus.ROLLED_BACK, actor=actor, reason=reason
            )
        deployment.release = release
    return deployment


# --- Scope: tickets and commits --------------------------------------------------


@transaction.atomic
def release_tickets_add(*, release: Release, tickets: list[dict], actor) -> list[Ticket]:
    """Add or update tickets in the release's scope.

    A new key changes the scope: ``scope_changed`` is emitted (approvals that
    depended on the old scope are invalidated). Audit: ``release.scope_changed``.
    """
    release_authorize(release=release, actor=actor, action="scope")
    release = _lock_release(release)
    existing = {t.key: t for t in Ticket.objects.filter(release=release)}
    added, saved = [], []
    for item in tickets:
        key = _check_text(str(item.get("key", "")), "Ticket key", 64).strip()
        if not key:
            raise ValidationFailed("Every ticket needs a key, such as PROJ-123.")
        values = {
            "title": _check_text(item.get("title", ""), "Ticket title", 300),
            "url": _check_text(item.get("url", ""), "Ticket URL", 500),
            "status": _check_text(item.get("status", ""), "Ticket status", 64),
        }
        if values["url"] and not values["url"].startswith(("http://", "https://")):
            raise ValidationFailed(f"The URL of ticket {key} must start with http:// or https://.")
        ticket = existing.get(key)
        if ticket is None:
            ticket = Ticket.objects.create(release=release, key=key, **values)
            existing[key] = ticket
            added.append(key)
        else:
            for name, value in values.items():
                setattr(ticket, name, value)
            ticket.save()
        saved.append(ticket)
    if added:
        audit_record(
            actor=actor,
            action="release.scope_changed",
            obj=release,
            project=release.project_id,
            release=release,
            reason=f"Added {', '.join(added)}.",
            data={"added": added, "removed": []},
        )
        emit(
            "scope_changed",
            release=release,
            actor=actor,
            reason=f"Tickets added: {', '.join(added)}.",
        )
    return saved


@transaction.atomic
def release_tickets_remove(*, release: Release, keys: list[str], actor) -> int:
    """Remove tickets from the scope. Audit: ``release.scope_changed``; emits ``scope_changed``."""
    release_authorize(release=release, actor=actor, action="scope")
    release = _lock_release(release)
    removed = sorted(
        Ticket.objects.filter(release=release, key__in=keys).values_list("key", flat=True)
    )
    if not removed:
        return 0
    Ticket.objects.filter(release=release, key__in=removed).delete()
    audit_record(
        actor=actor,
        action="release.scope_changed",
        obj=release,
        project=release.project_id,
        release=release,
        reason=f"Removed {', '.join(removed)}.",
        data={"added": [], "removed": removed},
    )
    emit(
        "scope_changed",
        release=release,
        actor=actor,
        reason=f"Tickets removed: {', '.join(removed)}.",
    )
    return len(removed)


@transaction.atomic
def release_commits_add(*, release: Release, commits: list[dict], actor) -> int:
    """Attach commits (sha, message, author, committed_at). Audit: ``release.commits_added``."""
    release_authorize(release=release, actor=actor, action="commits")
    release = _lock_release(release)
    known = set(Commit.objects.filter(release=release).values_list("sha", flat=True))
    new = []
    for item in commits:
        sha = _check_text(str(item.get("sha", "")), "Commit sha", 64).strip().lower()
        if not sha or any(c not in "0123456789abcdef" for c in sha) or len(sha) < 7:
            raise ValidationFailed(f"'{sha[:64]}' is not a git commit hash (7 to 64 hex digits).")
        if sha in known:
            continue
        known.add(sha)
        new.append(
            Commit(
                release=release,
                sha=sha,
                message=_check_text(item.get("message", ""), "Commit message"),
                author=_check_text(item.get("author", ""), "Commit author", 200),
                committed_at=item.get("committed_at"),
            )
        )
    Commit.objects.bulk_create(new)
    if new:
        audit_record(
            actor=actor,
            action="release.commits_added",
            obj=release,
            project=release.project_id,
            release=release,
            data={"count": len(new), "shas": [c.sha for c in new[:50]]},
        )
    return len(new)
