from __future__ import annotations

from django.db.models import QuerySet

from projects.models import Environment, Membership, Project
from projects.principals import is_token


def project_list(*, user) -> QuerySet[Project]:
    """Projects ``user`` may see: those where they hold any role (a token: its own project)."""
    if is_token(user):
        return Project.objects.filter(pk=user.api_token.project_id)
    if not getattr(user, "is_authenticated", False):
        return Project.objects.none()
    return Project.objects.filter(pk__in=Membership.objects.filter(user=user).values("project_id"))


def project_members(*, project, roles=None):
    qs = (
        Membership.objects.filter(project=project).select_related("user").order_by("user__username")
    )
    if roles:
        qs = qs.filter(role__in=list(roles))
    return qs


def environment_list(*, project) -> QuerySet[Environment]:
    return Environment.objects.filter(project=project).order_by("order")
