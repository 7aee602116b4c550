"""Reads of incidents, narrowed to what the reader may see."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from core.exceptions import NotFound
from incidents.models import Incident
from projects.models import Membership
from projects.principals import is_token


def visible_project_ids(user: Any) -> list[int]:
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    if is_token(user):
        return [user.api_token.project_id]
    return list(
        Membership.objects.filter(user=user).values_list("project_id", flat=True).distinct()
    )


def incident_list(*, user: Any) -> QuerySet[Incident]:
    return Incident.objects.filter(project_id__in=visible_project_ids(user)).select_related(
        "project", "environment", "cause_release", "details__commander"
    )


def incident_get(*, user: Any, pk: int) -> Incident:
    incident = incident_list(user=user).filter(pk=pk).first()
    if incident is None:
        raise NotFound("No such incident.")
    return incident
