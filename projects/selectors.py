"""Reads of the projects app, narrowed to what the caller may see."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeAlias, cast

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.db.models import Prefetch, QuerySet

from core.exceptions import NotFound, ValidationFailed
from projects.models import Environment, Membership, Project
from projects.permissions import is_staff_admin
from projects.principals import Person, Principal, TokenPrincipal, is_token

# Who reads: a person, a token, or nobody signed in (request.user).
Viewer: TypeAlias = "Principal | AnonymousUser | None"


def project_list(*, user: Viewer) -> QuerySet[Project]:
    """Projects ``user`` may see: those where they hold any role (a token: its own project)."""
    if is_token(user):
        return Project.objects.filter(pk=cast(TokenPrincipal, user).api_token.project_id)
    if not getattr(user, "is_authenticated", False):
        return Project.objects.none()
    person = cast(Person, user)  # signed in and not a token: a person
    return Project.objects.filter(
        pk__in=Membership.objects.filter(user=person).values("project_id")
    )


def project_members(
    *, project: Project | int, roles: Iterable[str] | None = None
) -> QuerySet[Membership]:
    qs = (
        Membership.objects.filter(project=project).select_related("user").order_by("user__username")
    )
    if roles:
        qs = qs.filter(role__in=list(roles))
    return qs


def environment_list(*, project: Project | int) -> QuerySet[Environment]:
    return Environment.objects.filter(project=project).order_by("order")


def active_environment_list(*, project: Project | int) -> QuerySet[Environment]:
    """The promotion order: the project's environments that are not retired, first to last."""
    return Environment.objects.filter(project=project, retired_at__isnull=True).order_by("order")


def project_manageable_list(*, user: Viewer) -> QuerySet[Project]:
    """Projects ``user`` may open for settings: their own, and every project for staff."""
    if is_staff_admin(user):
        return Project.objects.all()
    return project_list(user=user)


def project_with_environments(qs: QuerySet[Project]) -> QuerySet[Project]:
    """``qs`` with each project's active environments as ``active_environments`` (one query)."""
    return qs.prefetch_related(
        Prefetch(
            "environments",
            queryset=Environment.objects.filter(retired_at__isnull=True).order_by("order"),
            to_attr="active_environments",
        )
    )


def project_get(*, user: Viewer, slug: Any, include_staff: bool = True) -> Project:
    """One project ``user`` may see (staff: any) by slug, or NotFound."""
    if not isinstance(slug, str) or "\x00" in slug or len(slug) > 60:
        raise NotFound("No such project.")
    qs = project_manageable_list(user=user) if include_staff else project_list(user=user)
    project = qs.filter(slug=slug).first()
    if project is None:
        raise NotFound("No such project.")
    return project


def environment_by_name(*, project: Project, name: Any) -> Environment:
    if not isinstance(name, str) or "\x00" in name or len(name) > 40:
        raise NotFound("No such environment in this project.")
    env = Environment.objects.filter(project=project, name=name).select_related("project").first()
    if env is None:
        raise NotFound(f"No environment '{name}' in {project.name}.")
    return env


def person_find(*, identifier: Any) -> Person:
    """An existing person by username, or else by e-mail address; ValidationFailed otherwise."""
    User = get_user_model()
    text = (identifier or "").strip() if isinstance(identifier, str) else ""
    if not text or "\x00" in text or len(text) > 254:
        raise ValidationFailed(
            "Give the person's username or e-mail address.", details={"field": "user"}
        )
    user = User.objects.filter(username=text).first()
    if user is not None:
        return user
    matches = list(User.objects.filter(email__iexact=text)[:2])
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise ValidationFailed(
            f"Several people use the e-mail address {text}; give the username instead.",
            details={"field": "user"},
        )
    raise ValidationFailed(
        f"Nobody with the username or e-mail address '{text[:80]}' has an account here.",
        details={"field": "user"},
    )
