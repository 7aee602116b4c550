"""Who may decide what, in one place: pages, the API and the services all ask here.

Separation of duties, as decided for Shipcheck:

* The release's author may give no decision of any kind on it
  (``Release.author_ids``): the person who created it, or, for a release a
  pipeline created, both the owner of the pipeline's token (``created_by``)
  and the release manager the pipeline named.
* Deployment and emergency approvals also exclude the release's release
  manager (the person steering a release does not vouch for it) and everyone
  who deployed it anywhere. Someone who approved a deployment may not then
  carry it out (``approvals.listeners``).
* A person holding two eligible roles still decides once: one active decision
  per person, kind, environment and release.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from approvals.choices import KIND_ROLES, ApprovalKind
from approvals.exceptions import (
    ApprovalDenied,
    OutsiderDenied,
    PeopleOnly,
    RoleNotHeld,
    SelfApprovalError,
    SeparationOfDutiesError,
)
from projects.choices import Role
from projects.permissions import (
    a_or_an,
    can_admin_project,
    can_manage_release,
    can_view_project,
    has_role,
    holds_writing_role,
    is_person,
    role_refusal,
)
from projects.principals import is_token


def role_label(role: str) -> str:
    try:
        label = Role(role).label
    except ValueError:
        return role
    return label if label.isupper() else label.lower()


def is_insider(user, project) -> bool:
    """A member of the project, or a token of it (whatever its scopes): told "forbidden", not "not found"."""
    if is_token(user):
        return user.api_token.project_id == getattr(project, "pk", project)
    return can_view_project(user, project)


def eligible_roles(kind: str, policy) -> tuple[str, ...]:
    """The project roles whose holders may give this kind of decision, in order of preference."""
    if kind == ApprovalKind.DEPLOYMENT:
        return tuple(policy.approver_roles or ()) if policy is not None else ()
    return KIND_ROLES.get(kind, ())


def separation_refusal(
    *, person_id, kind: str, release, deployer_ids: Iterable[int]
) -> ApprovalDenied | None:
    """Why this person's decision would break separation of duties, or None."""
    if person_id is not None and person_id in release.author_ids:
        return SelfApprovalError(_author_sentence(person_id, release))
    if kind in (ApprovalKind.DEPLOYMENT, ApprovalKind.EMERGENCY):
        if person_id == release.release_manager_id:
            return SeparationOfDutiesError(
                "You are this release's release manager; its deployment approvals must come from others."
            )
        if person_id in set(deployer_ids):
            return SeparationOfDutiesError(
                "You deployed this release, so your approval of its deployment would not be independent."
            )
    return None


def _author_sentence(person_id, release) -> str:
    if not release.created_by_pipeline:
        return "You created this release, so you may not approve or sign off on it yourself."
    token = release.created_by_token_name or "a pipeline's token"
    if person_id == release.created_by_id:
        return (
            f"A pipeline created this release with the API token '{token}', which you own, so you "
            "count as its author and may not approve or sign off on it."
        )
    return (
        f"A pipeline created this release (API token '{token}') and you are its release manager, "
        "so you count as its author and may not approve or sign off on it."
    )


def decision_refusal(
    *, user, release, kind: str, policy, deployer_ids: Iterable[int], role: str | None = None
) -> ApprovalDenied | OutsiderDenied | None:
    """The error that refuses ``user`` this decision, or None when they may give it.

    Order matters: strangers first (404, as if the release did not exist), then
    machines (never), then roles,
    then separation of duties.
    """
    if not is_insider(user, release.project_id):
        return OutsiderDenied("No such release.")
    if not is_person(user):
        return PeopleOnly("Only people can approve or sign off; API tokens never can.")
    allowed = eligible_roles(kind, policy)
    kind_label = ApprovalKind(kind).label
    if not kind_label[:2].isupper():  # keep "QA sign-off", lower "Scope approval"
        kind_label = kind_label[0].lower() + kind_label[1:]
    if role:
        if not has_role(user, release.project_id, role):
            return RoleNotHeld(f"You do not hold the {role_label(role)} role in this project.")
        if role not in allowed:
            return RoleNotHeld(
                f"{_sentence_start(a_or_an(kind_label))} cannot be given as {role_label(role)}; "
                "it needs " + _roles_text(allowed) + "."
            )
    elif not allowed:
        return RoleNotHeld(f"{_sentence_start(a_or_an(kind_label))} needs {_roles_text(allowed)}.")
    elif not has_role(user, release.project_id, *allowed):
        # role_refusal builds the error class it is given: approvals' audited RoleNotHeld.
        return cast(
            RoleNotHeld, role_refusal(*allowed, to=f"give {a_or_an(kind_label)}", error=RoleNotHeld)
        )
    return separation_refusal(
        person_id=user.pk, kind=kind, release=release, deployer_ids=deployer_ids
    )


def _sentence_start(text: str) -> str:
    return text[:1].upper() + text[1:]


def _roles_text(roles: Iterable[str]) -> str:
    names = [f"the {role_label(r)} role" for r in roles]
    if not names:
        return "a role that this environment's policy does not name yet"
    return " or ".join(names)


def acting_role(user, release, kind: str, policy, requested: str | None = None) -> str:
    """The role a decision is recorded under: the one asked for, else the first eligible one held."""
    if requested:
        return requested
    from projects.permissions import roles_for

    held = roles_for(user, release.project_id)
    return next((r for r in eligible_roles(kind, policy) if r in held), "")


def can_request_approval(user, release) -> bool:
    return can_manage_release(user, release)


def can_edit_policy(user, project) -> bool:
    return is_person(user) and can_admin_project(user, project)


def can_run_meeting(user, release) -> bool:
    """Schedule, steer and decide a go/no-go meeting: the release's manager or a release manager."""
    if not is_person(user):
        return False
    if user.pk == release.release_manager_id and holds_writing_role(user, release.project_id):
        return True
    return has_role(user, release.project_id, Role.RELEASE_MANAGER)


def can_complete_review(user, release) -> bool:
    return is_person(user) and (
        (user.pk == release.release_manager_id and holds_writing_role(user, release.project_id))
        or has_role(
            user, release.project_id, Role.RELEASE_MANAGER, Role.ADMIN, Role.EMERGENCY_APPROVER
        )
    )
