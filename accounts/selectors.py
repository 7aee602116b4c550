"""Reads of the accounts app, narrowed to what the caller may see."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from accounts.models import GroupRoleMapping, Invitation
from accounts.permissions import can_manage_people, is_staff
from accounts.tokens import invitation_hash
from core.exceptions import NotFound, PermissionDenied
from projects.models import Project
from projects.permissions import can_view_project
from projects.principals import Person, is_token
from projects.selectors import Viewer

if TYPE_CHECKING:
    from allauth.usersessions.models import UserSession


def managed_project_get(*, user: Viewer, slug: str) -> Project:
    """A project whose people ``user`` manages (admin or staff); anything else is 404."""
    project = Project.objects.filter(slug=str(slug)[:60]).first()
    if project is None or is_token(user):
        raise NotFound("No such project.")
    if not can_manage_people(user, project):
        if can_view_project(user, project):
            raise PermissionDenied(
                "Only a project admin or a staff administrator may manage this project's people "
                "and sign-in rules."
            )
        raise NotFound("No such project.")
    return project


def invitation_list(*, project: Project) -> QuerySet[Invitation]:
    return (
        Invitation.objects.filter(project=project)
        .select_related("invited_by", "accepted_by", "revoked_by")
        .order_by("-created_at", "-id")
    )


def invitation_get(*, project: Project, pk: Any) -> Invitation:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound("No such invitation.") from None
    invitation = Invitation.objects.filter(project=project, pk=pk).select_related("project").first()
    if invitation is None:
        raise NotFound("No such invitation.")
    return invitation


def invitation_by_token(token: str) -> Invitation | None:
    if not token:
        return None
    return (
        Invitation.objects.filter(token_hash=invitation_hash(token))
        .select_related("project", "invited_by")
        .first()
    )


def group_mapping_list(*, project: Project) -> QuerySet[GroupRoleMapping]:
    return GroupRoleMapping.objects.filter(project=project).order_by("group", "role")


def group_mapping_get(*, project: Project, pk: Any) -> GroupRoleMapping:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound("No such group mapping.") from None
    mapping = (
        GroupRoleMapping.objects.filter(project=project, pk=pk).select_related("project").first()
    )
    if mapping is None:
        raise NotFound("No such group mapping.")
    return mapping


def people_list(*, user: Viewer, query: str = "") -> QuerySet[Person]:
    """Everybody, for staff only (others get nothing)."""
    if not is_staff(user):
        return get_user_model().objects.none()
    people = get_user_model().objects.order_by("username")
    query = str(query or "").strip()[:100]
    if query:
        from django.db.models import Q

        people = people.filter(
            Q(username__icontains=query) | Q(email__icontains=query) | Q(last_name__icontains=query)
        )
    return people


def person_get(*, user: Viewer, username: str) -> Person:
    person = people_list(user=user).filter(username=str(username)[:150]).first()
    if person is None:
        raise NotFound("No such person.")
    return person


def session_list(*, user: Person) -> list[UserSession]:
    """The signed-in person's sessions that still exist, newest first."""
    from allauth.usersessions.models import UserSession

    live = UserSession.objects.purge_and_list(user)
    return sorted(live, key=lambda s: s.last_seen_at, reverse=True)
