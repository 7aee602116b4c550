"""The release calendar over HTTP: windows, freezes, overrides, the queue and the calendar.

Conventions (docs/api.md): a token reads with the ``read`` scope; what a person may not see
answers 404; changes are made by people (a token gets 403 ``people_only``); then the body (400).
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from django.db.models import Q
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.input import body_field, body_slug, body_valid, require_person
from core.api.schema import error_responses
from core.exceptions import NotFound, PermissionDenied, ValidationFailed
from deploycalendar import selectors, services
from deploycalendar.api.serializers import (
    CalendarOverrideSerializer,
    CalendarSerializer,
    DeployWindowSerializer,
    FreezeInputSerializer,
    FreezeRuleSerializer,
    OverrideInputSerializer,
    QueuedPromotionSerializer,
    QueueInputSerializer,
    WindowInputSerializer,
)
from deploycalendar.models import DeployWindow, Freeze, Override, QueuedPromotion
from deploycalendar.permissions import can_manage_calendar, can_override, can_queue
from projects.api.permissions import require_writing_role_somewhere
from projects.models import Environment
from projects.permissions import is_staff_admin
from projects.selectors import project_list
from releases.selectors import release_get

PROJECT_PARAM = OpenApiParameter("project", str, description="A project's slug.", required=False)
# A calendar answer expands every rule over the range; a quarter keeps it quick and bounded.
MAX_RANGE_DAYS = 100


def _visible_ids(user) -> list[int]:
    return list(project_list(user=user).values_list("pk", flat=True))


def _environment(user, project_slug: str, name: str) -> Environment:
    environment = (
        Environment.objects.filter(
            project__in=project_list(user=user), project__slug=project_slug, name=name
        )
        .select_related("project")
        .first()
    )
    if environment is None:
        raise NotFound("No such environment in a project you can see.")
    return environment


def _rules_right_first(request) -> None:
    """Who may change windows and freezes is asked before the body is read (docs/api.md)."""
    slug = body_slug(request, "project")
    if slug is None:
        # No project: an organisation-wide freeze, which site staff set.
        if not is_staff_admin(request.user):
            require_writing_role_somewhere(request.user)
        return
    project = project_list(user=request.user).filter(slug=slug).first()
    if project is None:
        raise NotFound("No such project.")
    if not can_manage_calendar(request.user, project):
        raise PermissionDenied(
            "Only a release manager or a project admin may change this project's deploy "
            "windows and freezes."
        )


def _release_right_first(request, allowed, refusal: str) -> None:
    """For overrides and the queue: the release the body names, and the caller's right on it."""
    value = body_field(request, "release")
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        require_writing_role_somewhere(request.user)
        return
    release = release_get(user=request.user, pk=value)
    if not allowed(request.user, release):
        raise PermissionDenied(refusal)


def _narrow(request, queryset, field: str):
    slug = request.query_params.get("project")
    if slug:
        return queryset.filter(**{f"{field}__slug": slug[:60]})
    return queryset


@extend_schema(tags=["calendar"])
class WindowViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Deploy and maintenance windows of the environments you can see."""

    serializer_class = DeployWindowSerializer

    def get_queryset(self):
        qs = DeployWindow.objects.filter(
            environment__project_id__in=_visible_ids(self.request.user), removed_at__isnull=True
        ).select_related("environment__project")
        return _narrow(self.request, qs, "environment__project").order_by("id")

    @extend_schema(parameters=[PROJECT_PARAM])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=WindowInputSerializer,
        responses={201: DeployWindowSerializer, **error_responses(400, 403, 404)},
    )
    def create(self, request):
        require_person(request.user, "deploy windows")
        _rules_right_first(request)
        data = body_valid(WindowInputSerializer, request)
        environment = _environment(request.user, data.pop("project"), data.pop("environment"))
        window = services.window_create(environment=environment, actor=request.user, **data)
        return Response(DeployWindowSerializer(window).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None, **error_responses(403, 404)})
    def destroy(self, request, *args, **kwargs):
        require_person(request.user, "deploy windows")
        services.calendar_rule_remove(rule=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["calendar"])
class FreezeViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Freezes of the environments you can see, and the organisation-wide ones."""

    serializer_class = FreezeRuleSerializer

    def get_queryset(self):
        qs = Freeze.objects.filter(
            Q(environment__project_id__in=_visible_ids(self.request.user))
            | Q(environment__isnull=True),
            removed_at__isnull=True,
        ).select_related("environment__project")
        slug = self.request.query_params.get("project")
        if slug:
            qs = qs.filter(Q(environment__project__slug=slug[:60]) | Q(environment__isnull=True))
        return qs.order_by("id")

    @extend_schema(parameters=[PROJECT_PARAM])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=FreezeInputSerializer,
        responses={201: FreezeRuleSerializer, **error_responses(400, 403, 404)},
    )
    def create(self, request):
        require_person(request.user, "freezes")
        _rules_right_first(request)
        data = body_valid(FreezeInputSerializer, request)
        project, name = data.pop("project", None), data.pop("environment", None)
        if bool(project) != bool(name):
            raise ValidationFailed(
                "Give both project and environment, or neither for an organisation-wide freeze."
            )
        environment = _environment(request.user, project, name) if project else None
        freeze = services.freeze_create(environment=environment, actor=request.user, **data)
        return Response(FreezeRuleSerializer(freeze).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None, **error_responses(403, 404)})
    def destroy(self, request, *args, **kwargs):
        require_person(request.user, "freezes")
        services.calendar_rule_remove(rule=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["calendar"])
class OverrideViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Overrides of windows and freezes, one per release and environment."""

    serializer_class = CalendarOverrideSerializer

    def get_queryset(self):
        qs = Override.objects.filter(
            release__project_id__in=_visible_ids(self.request.user)
        ).select_related("release", "environment", "granted_by")
        return _narrow(self.request, qs, "release__project").order_by("-created_at", "-id")

    @extend_schema(parameters=[PROJECT_PARAM])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=OverrideInputSerializer,
        responses={201: CalendarOverrideSerializer, **error_responses(400, 403, 404, 409)},
    )
    def create(self, request):
        require_person(request.user, "overrides")
        _release_right_first(
            request,
            can_override,
            "Only an emergency approver or a project admin who is not the release's own manager "
            "may override the deploy windows and freezes.",
        )
        data = body_valid(OverrideInputSerializer, request)
        release = release_get(user=request.user, pk=data["release"])
        environment = _environment(request.user, release.project.slug, data["environment"])
        override = services.override_grant(
            release=release, environment=environment, actor=request.user, reason=data["reason"]
        )
        return Response(CalendarOverrideSerializer(override).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["calendar"])
class QueueViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Promotions waiting for their window (and what became of them)."""

    serializer_class = QueuedPromotionSerializer

    def get_queryset(self):
        qs = QueuedPromotion.objects.filter(
            release__project_id__in=_visible_ids(self.request.user)
        ).select_related("release__project", "environment", "requested_by")
        return _narrow(self.request, qs, "release__project").order_by("-created_at", "-id")

    @extend_schema(parameters=[PROJECT_PARAM])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=QueueInputSerializer,
        responses={201: QueuedPromotionSerializer, **error_responses(400, 403, 404, 409)},
    )
    def create(self, request):
        require_person(request.user, "the promotion queue")
        _release_right_first(
            request, can_queue, "Only a person who may deploy this release may queue its promotion."
        )
        data = body_valid(QueueInputSerializer, request)
        release = release_get(user=request.user, pk=data["release"])
        environment = _environment(request.user, release.project.slug, data["environment"])
        item = services.queue_add(release=release, environment=environment, actor=request.user)
        return Response(QueuedPromotionSerializer(item).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None, responses={200: QueuedPromotionSerializer, **error_responses(403, 404, 409)}
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        require_person(request.user, "the promotion queue")
        item = services.queue_cancel(item=self.get_object(), actor=request.user)
        return Response(QueuedPromotionSerializer(item).data)


def _moment(value: str | None, field: str, default: datetime) -> datetime:
    if not value:
        return default
    try:
        parsed = datetime.fromisoformat(value[:40])
    except ValueError:
        raise ValidationFailed(
            f"'{field}' must be a date or a date and time (ISO 8601).", details={"field": field}
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


@extend_schema(tags=["calendar"])
class CalendarView(APIView):
    """Windows and freezes (as bands) and deployments in [from, to)."""

    @extend_schema(
        operation_id="calendar_read",
        parameters=[
            OpenApiParameter(
                "from",
                str,
                description="Start (ISO date or date-time; UTC when no offset). Default: today.",
            ),
            OpenApiParameter(
                "to",
                str,
                description=f"End, exclusive. Default: 30 days on; at most {MAX_RANGE_DAYS} days after from.",
            ),
            PROJECT_PARAM,
        ],
        responses={200: CalendarSerializer, **error_responses(400, 404)},
    )
    def get(self, request):
        today = datetime.combine(datetime.now(UTC).date(), time.min, tzinfo=UTC)
        start = _moment(request.query_params.get("from"), "from", today)
        end = _moment(request.query_params.get("to"), "to", start + timedelta(days=30))
        if end <= start:
            raise ValidationFailed("'to' must be after 'from'.", details={"field": "to"})
        if end - start > timedelta(days=MAX_RANGE_DAYS):
            raise ValidationFailed(
                f"Ask for at most {MAX_RANGE_DAYS} days at once.", details={"field": "to"}
            )
        project = None
        slug = request.query_params.get("project")
        if slug:
            project = project_list(user=request.user).filter(slug=slug[:60]).first()
            if project is None:
                raise NotFound("No such project.")
        data = selectors.calendar_data(user=request.user, start=start, end=end, project=project)
        return Response(CalendarSerializer(data).data)
