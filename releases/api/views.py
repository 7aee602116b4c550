"""Releases and deployments over HTTP: parse, call one selector or service, answer.

Missing and invisible objects are both 404; rules live in ``releases.services``.
Every write asks the caller's right (``release_authorize``, the services' own
check) before it validates the body: someone who may not do it gets 403
whatever they send, never a list of what is wrong with the body.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.deprecation import USED_KEY, deprecation_mark
from core.api.input import body_slug, body_valid
from core.api.schema import error_responses
from core.exceptions import NotFound, ValidationFailed
from projects.api.permissions import (
    require_release_creation,
    require_token_scopes,
    require_writing_role_somewhere,
)
from projects.choices import TokenScope
from projects.selectors import project_list
from releases import services
from releases.api.conditional import not_modified, project_etag, tagged
from releases.api.filters import ReleaseFilterSet
from releases.api.serializers import (
    CommitSerializer,
    DeploymentFinishSerializer,
    DeploymentSerializer,
    GateReportSerializer,
    PromoteSerializer,
    ReasonSerializer,
    ReleaseCreateSerializer,
    ReleaseDetailSerializer,
    ReleaseSerializer,
    ReleaseUpdateSerializer,
    TicketSerializer,
)
from releases.choices import DeploymentStatus
from releases.exceptions import GateBlocked
from releases.gates import gate_evaluate
from releases.models import Commit, Deployment, Ticket
from releases.selectors import (
    deployment_get,
    environment_get,
    release_get,
    release_list,
    release_with_pipeline,
)

ENVIRONMENT_PARAM = OpenApiParameter(
    "environment", str, OpenApiParameter.PATH, description="Environment name, e.g. staging."
)
TICKET_KEY_PARAM = OpenApiParameter(
    "key", str, OpenApiParameter.PATH, description="The ticket's key, e.g. PAY-142."
)


def _valid(serializer_class, request, **kwargs) -> dict:
    return body_valid(serializer_class, request, **kwargs)


def _authorize(request, release, action: str) -> None:
    """The caller's right to ``action`` on ``release``, asked before the body is read.

    A token first needs the scope (403 ``missing_scope`` naming it), then the
    same ``release_authorize`` the service asks.
    """
    scope = (
        TokenScope.DEPLOYMENTS
        if action in ("deploy", "finish", "rollback")
        else TokenScope.RELEASES
    )
    require_token_scopes(request.user, scope)
    services.release_authorize(release=release, actor=request.user, action=action)


def _person_named(username: str, project):
    """The member of ``project`` called ``username``, or a 400 naming the field."""
    user = get_user_model().objects.filter(username=username, memberships__project=project).first()
    if user is None:
        raise ValidationFailed(
            f"'{username[:150]}' is not a member of this project.",
            details={"release_manager": ["Name a member of this project by username."]},
        )
    return user


@extend_schema_view(
    list=extend_schema(
        summary="Releases visible to the caller, newest first",
        responses={200: ReleaseSerializer(many=True), **error_responses(400, 401, 403)},
    ),
    retrieve=extend_schema(
        summary="One release with its pipeline",
        description="Answers with an `ETag`; send it back in `If-None-Match` and the answer is "
        "`304 Not Modified` (no body) until something in the release's project changes.",
        responses={
            200: ReleaseDetailSerializer,
            304: OpenApiResponse(description="Not modified since the ETag you sent."),
            **error_responses(401, 403, 404),
        },
    ),
)
class ReleaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    filterset_class = ReleaseFilterSet
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    token_read_scopes: tuple[str, ...] = (TokenScope.READ,)

    def get_queryset(self):
        return release_list(user=self.request.user).select_related("created_by")

    def get_serializer_class(self):
        return ReleaseDetailSerializer if self.action == "retrieve" else ReleaseSerializer

    def get_object(self):
        return release_get(user=self.request.user, pk=self.kwargs["pk"])

    def retrieve(self, request, pk=None):
        visible = self.get_object()
        etag = project_etag(visible.project_id, f"release-{visible.pk}")
        if (unchanged := not_modified(request, etag)) is not None:
            return unchanged
        release = release_with_pipeline(user=request.user, pk=pk)
        data = ReleaseDetailSerializer(release, context={"request": request}).data
        return tagged(Response(data), etag)

    @extend_schema(
        summary="Create a planned release",
        request=ReleaseCreateSerializer,
        responses={201: ReleaseSerializer, **error_responses(400, 401, 403, 404)},
    )
    def create(self, request):
        require_token_scopes(request.user, TokenScope.RELEASES)
        slug = body_slug(request, "project")
        if slug is None:
            require_writing_role_somewhere(request.user)
        else:
            project = project_list(user=request.user).filter(slug=slug).first()
            if project is None:
                raise NotFound("No such project.")
            require_release_creation(request.user, project)
        data = dict(_valid(ReleaseCreateSerializer, request))
        project = project_list(user=request.user).filter(slug=data.pop("project")).first()
        if project is None:
            raise NotFound("No such project.")
        if "release_manager" in data:
            data["release_manager"] = _person_named(data["release_manager"], project)
        release = services.release_create(project=project, actor=request.user, **data)
        return Response(
            ReleaseSerializer(release, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        summary="Change some fields of a release",
        request=ReleaseUpdateSerializer,
        responses={200: ReleaseSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def partial_update(self, request, pk=None):
        release = self.get_object()
        _authorize(request, release, "edit")
        changes = dict(_valid(ReleaseUpdateSerializer, request))
        if "release_manager" in changes:
            changes["release_manager"] = _person_named(changes["release_manager"], release.project)
        release = services.release_update(release=release, actor=request.user, **changes)
        return Response(ReleaseSerializer(release, context={"request": request}).data)

    @extend_schema(
        summary="Cancel a release that is not released",
        request=ReasonSerializer,
        responses={200: ReleaseSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        release = self.get_object()
        _authorize(request, release, "cancel")
        data = _valid(ReasonSerializer, request)
        release = services.release_cancel(
            release=release, actor=request.user, reason=data["reason"]
        )
        return Response(ReleaseSerializer(release, context={"request": request}).data)

    @extend_schema(
        summary="Deployments of a release, newest first",
        description="Conditional like the release itself: `If-None-Match` with the `ETag` of "
        "an earlier answer gets `304 Not Modified` while nothing in the project changed.",
        responses={
            200: DeploymentSerializer(many=True),
            304: OpenApiResponse(description="Not modified since the ETag you sent."),
            **error_responses(401, 403, 404),
        },
    )
    @action(
        detail=True, methods=["get"], filterset_class=None, serializer_class=DeploymentSerializer
    )
    def deployments(self, request, pk=None):
        release = self.get_object()
        etag = project_etag(
            release.project_id, f"deployments-{release.pk}-{request.GET.get('page', '1')}"
        )
        if (unchanged := not_modified(request, etag)) is not None:
            return unchanged
        qs = (
            Deployment.objects.filter(release=release)
            .select_related("release", "environment")
            .order_by("-created_at", "-id")
        )
        page = self.paginate_queryset(qs)
        return tagged(self.get_paginated_response(DeploymentSerializer(page, many=True).data), etag)

    @extend_schema(
        summary="Tickets in the release's scope, in the order they were attached",
        description="Paginated. The same tickets the release page lists and that "
        "`POST /api/v1/ci/releases/{version}/tickets/` attaches.",
        responses={200: TicketSerializer(many=True), **error_responses(401, 403, 404)},
    )
    @action(detail=True, methods=["get"], filterset_class=None, serializer_class=TicketSerializer)
    def tickets(self, request, pk=None):
        release = self.get_object()
        page = self.paginate_queryset(
            Ticket.objects.filter(release=release).order_by("created_at", "id")
        )
        return self.get_paginated_response(TicketSerializer(page, many=True).data)

    @extend_schema(
        summary="Remove a ticket from the release's scope",
        description="204 when removed. The scope changed, so approvals given for the old scope are "
        "invalidated (`approval.invalidated`) and `release.scope_changed` is audited. 404 when the "
        "release has no ticket with that key. Token scope: releases.",
        parameters=[TICKET_KEY_PARAM],
        request=None,
        responses={204: None, **error_responses(401, 403, 404)},
    )
    @action(
        detail=True,
        methods=["delete"],
        url_path=r"tickets/(?P<key>[^/]+)",
        filterset_class=None,
        serializer_class=TicketSerializer,
    )
    def ticket_remove(self, request, pk=None, key=None):
        release = self.get_object()
        _authorize(request, release, "scope")
        removed = services.release_tickets_remove(release=release, keys=[key], actor=request.user)
        if not removed:
            raise NotFound(f"{release.version} has no ticket {key[:64]} in its scope.")
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Commits of the release, in the order they were attached",
        description="Paginated. For commits sent as `git log` output that is git's order, newest "
        "first. Attach them with `POST /api/v1/ci/releases/{version}/commits/`.",
        responses={200: CommitSerializer(many=True), **error_responses(401, 403, 404)},
    )
    @action(detail=True, methods=["get"], filterset_class=None, serializer_class=CommitSerializer)
    def commits(self, request, pk=None):
        release = self.get_object()
        page = self.paginate_queryset(Commit.objects.filter(release=release).order_by("id"))
        return self.get_paginated_response(CommitSerializer(page, many=True).data)

    @extend_schema(
        summary="Start a deployment into an environment if every gate is open",
        description="Answers 201 with the new deployment, or 409 `gate_closed` with every gate "
        "(`details.gates`, each with state and reason) when any gate is closed; nothing changes then.",
        request=PromoteSerializer,
        responses={201: DeploymentSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def promote(self, request, pk=None):
        release = self.get_object()
        _authorize(request, release, "deploy")
        data = dict(_valid(PromoteSerializer, request))
        environment = environment_get(release=release, name_or_id=data.pop("environment"))
        deployment = services.release_promote(
            release=release, environment=environment, actor=request.user, **data
        )
        return Response(DeploymentSerializer(deployment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="May this release enter this environment now?",
        description="200 with `open: true` and every gate when all are open (or waived); otherwise "
        "409 `gate_closed` with the same gates in `details.gates`. The same answer the release page "
        "and the promote action use. Tokens need the `read` or `deployments` scope.",
        parameters=[ENVIRONMENT_PARAM],
        responses={200: GateReportSerializer, **error_responses(401, 403, 404, 409)},
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"gates/(?P<environment>[^/]+)",
        filterset_class=None,
        serializer_class=GateReportSerializer,
        token_read_scopes=(TokenScope.READ, TokenScope.DEPLOYMENTS),
    )
    def gates(self, request, pk=None, environment=None):
        release = self.get_object()
        report = gate_evaluate(
            release=release, environment=environment_get(release=release, name_or_id=environment)
        )
        if not report.is_open:
            raise GateBlocked(report)
        return Response(report.as_dict())


@extend_schema_view(
    retrieve=extend_schema(
        summary="One deployment",
        responses={200: DeploymentSerializer, **error_responses(401, 403, 404)},
    ),
)
class DeploymentViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = DeploymentSerializer
    lookup_value_regex = r"\d+"
    filter_backends: list = []

    def get_queryset(self):
        return Deployment.objects.filter(
            release__project__in=project_list(user=self.request.user)
        ).select_related("release", "environment")

    def get_object(self):
        return deployment_get(user=self.request.user, pk=self.kwargs["pk"])

    @extend_schema(
        summary="Record the outcome of a running deployment",
        description='`{"status": "succeeded" | "failed", "reason": "..."}`, the same words as the '
        "pipeline API and the monitoring report. The old `succeeded: true|false` is still accepted "
        "until 2027-06-01; the answer then carries `Deprecation`, `Sunset` and "
        "`Shipcheck-Deprecated` headers.",
        request=DeploymentFinishSerializer,
        responses={200: DeploymentSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def finish(self, request, pk=None):
        deployment = self.get_object()
        _authorize(request, deployment.release, "finish")
        data = _valid(DeploymentFinishSerializer, request)
        deployment = services.deployment_finish(
            deployment=deployment,
            actor=request.user,
            succeeded=data["status"] == DeploymentStatus.SUCCEEDED,
            reason=data["reason"],
        )
        return deprecation_mark(Response(DeploymentSerializer(deployment).data), data[USED_KEY])

    @extend_schema(
        summary="Record that a deployment was rolled back",
        request=ReasonSerializer,
        responses={200: DeploymentSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def rollback(self, request, pk=None):
        deployment = self.get_object()
        _authorize(request, deployment.release, "rollback")
        data = _valid(ReasonSerializer, request)
        deployment = services.deployment_rollback(
            deployment=deployment, actor=request.user, reason=data["reason"]
        )
        return Response(DeploymentSerializer(deployment).data)
