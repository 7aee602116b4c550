"""A release's own life: create, edit, cancel, mark released."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from audit.services import audit_record
from core.exceptions import NotFound, TransitionNotAllowed, ValidationFailed
from projects.models import Project
from projects.permissions import can_create_release, can_view_project, release_creation_refusal
from projects.principals import Actor, TokenPrincipal
from releases.choices import DeploymentStatus, ReleaseStatus, ReleaseType
from releases.exceptions import DuplicateVersion
from releases.models import Deployment, Release
from releases.registry import emit
from releases.services._common import check_text, lock_release, person, transition_release
from releases.services.authorize import release_authorize
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


@transaction.atomic
def release_create(
    *,
    project: Project,
    version: str,
    title: str,
    actor: Actor,
    type: str = ReleaseType.MINOR,
    description: str = "",
    notes: str = "",
    rollback_plan: str = "",
    release_manager: User | None = None,
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
    title = check_text(title, "Title", 200).strip()
    if not title:
        raise ValidationFailed("A release needs a title.")
    manager = release_manager or person(actor)
    if manager is None:
        raise ValidationFailed("Name the release manager of this release.")
    if not can_view_project(manager, project):
        raise ValidationFailed(f"{manager.get_username()} is not a member of {project}.")
    if Release.objects.filter(project=project, version=normalised).exists():
        raise DuplicateVersion(f"Version {normalised} already exists in {project}.")
    token = actor.api_token if isinstance(actor, TokenPrincipal) else None
    # A pipeline's release is created by its token on behalf of the token's owner.
    creator = token.created_by if token is not None else person(actor)
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
                description=check_text(description, "Description"),
                notes=check_text(notes, "Notes"),
                rollback_plan=check_text(rollback_plan, "Rollback plan"),
                release_manager=manager,
                created_by=creator,
                created_by_token=token,
                created_by_token_name=token.name if token is not None else "",
                target_date=target_date,
                artifact_version=check_text(artifact_version, "Artifact version", 120),
                commit_sha=check_text(commit_sha, "Commit", 64),
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
def release_update(*, release: Release, actor: Actor, **changes: Any) -> Release:
    """Edit a release's fields.

    Callers: see ``can_manage_release``. Audit: ``release.updated`` with the
    changed fields. A changed version, artifact or commit emits ``artifact_changed``
    (approvals given for the old artifact are invalidated).
    """
    release_authorize(release=release, actor=actor, action="edit")
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(f"These fields cannot be edited: {', '.join(sorted(unknown))}.")
    release = lock_release(release)
    if release.status == ReleaseStatus.CANCELLED:
        raise TransitionNotAllowed("A cancelled release cannot be edited.")
    diff: dict[str, tuple[Any, Any]] = {}
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
            value = check_text(value, "Title", 200).strip()
            if not value:
                raise ValidationFailed("A release needs a title.")
        elif isinstance(value, str):
            value = check_text(value, name.replace("_", " ").capitalize())
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
def release_cancel(*, release: Release, actor: Actor, reason: str) -> Release:
    """Cancel a release that is not yet released. Audit: ``release.status_changed``."""
    release_authorize(release=release, actor=actor, action="cancel")
    reason = check_text(reason, "Reason", 2000).strip()
    if not reason:
        raise ValidationFailed("Say why the release is cancelled.")
    release = lock_release(release)
    if Deployment.objects.filter(
        release=release, status__in=[DeploymentStatus.PENDING, DeploymentStatus.IN_PROGRESS]
    ).exists():
        raise TransitionNotAllowed(
            "Finish or fail the running deployment before cancelling the release."
        )
    transition_release(
        release=release, to_status=ReleaseStatus.CANCELLED, actor=actor, reason=reason
    )
    return release


@transaction.atomic
def release_mark_released(*, release: Release, actor: Actor, reason: str = "") -> Release:
    """Mark a release released (production accepted it). Used by monitoring after verification."""
    release = lock_release(release)
    transition_release(
        release=release, to_status=ReleaseStatus.RELEASED, actor=actor, reason=reason
    )
    return release
