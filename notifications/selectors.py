"""Reads of the notifications app, narrowed to what the caller may see."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from core.exceptions import NotFound
from notifications.choices import DeliveryStatus
from notifications.models import Channel, Delivery, MessageTemplate, Preference, Subscriber
from notifications.permissions import can_read_log
from projects.models import Project
from projects.selectors import project_get


def project_for(*, user: Any, slug: Any) -> Project:
    """A project ``user`` may read the notifications of, or NotFound."""
    project = project_get(user=user, slug=slug)
    if not can_read_log(user, project):
        raise NotFound("No such project.")
    return project


def subscriber_list(*, project: Project) -> QuerySet[Subscriber]:
    return Subscriber.objects.filter(project=project).select_related("user")


def channel_list(*, project: Project) -> QuerySet[Channel]:
    return (
        Channel.objects.filter(project=project)
        .annotate(dead_count=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.DEAD)))
        .order_by("name", "id")
    )


def template_list(*, project: Project) -> QuerySet[MessageTemplate]:
    return MessageTemplate.objects.filter(project=project).select_related("updated_by")


def preference_list(*, project: Project, user: Any) -> QuerySet[Preference]:
    return Preference.objects.filter(project=project, user=user)


def delivery_list(
    *,
    project: Project,
    status: str = "",
    release: Any = None,
    event_key: str = "",
) -> QuerySet[Delivery]:
    qs = Delivery.objects.filter(project=project).select_related("release", "channel")
    if status:
        qs = qs.filter(status=status)
    if release is not None:
        qs = qs.filter(release=release)
    if event_key:
        qs = qs.filter(event_key=event_key)
    return qs.order_by("-created_at", "-id")


def delivery_get(*, user: Any, pk: Any) -> Delivery:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound("No such delivery.") from None
    delivery = (
        Delivery.objects.select_related("project", "release", "channel", "subscriber")
        .filter(pk=pk)
        .first()
    )
    if delivery is None or not can_read_log(user, delivery.project):
        raise NotFound("No such delivery.")
    return delivery


def subscriber_get(*, user: Any, pk: Any) -> Subscriber:
    found = Subscriber.objects.select_related("project", "user").filter(pk=_int(pk)).first()
    if found is None or not can_read_log(user, found.project):
        raise NotFound("No such subscriber.")
    return found


def channel_get(*, user: Any, pk: Any) -> Channel:
    found = Channel.objects.select_related("project").filter(pk=_int(pk)).first()
    if found is None or not can_read_log(user, found.project):
        raise NotFound("No such channel.")
    return found


def template_get(*, user: Any, pk: Any) -> MessageTemplate:
    found = MessageTemplate.objects.select_related("project").filter(pk=_int(pk)).first()
    if found is None or not can_read_log(user, found.project):
        raise NotFound("No such template.")
    return found


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def release_deliveries(*, release: Any, limit: int = 200) -> list[Delivery]:
    """The release's delivery log (newest first), one query."""
    return list(
        Delivery.objects.filter(release=release)
        .exclude(status=DeliveryStatus.BUNDLED)
        .select_related("channel")
        .order_by("-created_at", "-id")[:limit]
    )
