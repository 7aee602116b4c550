"""The monitoring API: start a deployment with a strategy, report it, read windows and samples.

Thin: parse, call one selector or service, answer. Missing and invisible
objects are both 404; the rules live in the services. A write asks the
caller's right (``releases.services.release_authorize``) before it validates
the body, so someone who may not deploy is refused whatever they send.
"""

from __future__ import annotations

from typing import Any, cast

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.deprecation import USED_KEY, deprecation_mark
from core.api.input import body_field, body_valid
from core.api.schema import error_responses
from core.exceptions import NotFound
from monitoring import selectors, services
from monitoring.api.serializers import (
    DeploymentReportSerializer,
    DeploymentStartSerializer,
    MonitoredDeploymentSerializer,
    SampleSerializer,
    WindowDetailSerializer,
    WindowSerializer,
)
from monitoring.choices import WindowStatus
from projects.api.permissions import require_token_scopes, require_writing_role_somewhere
from projects.choices import TokenScope
from releases.choices import DeploymentStatus
from releases.selectors import deployment_get, environment_get, release_get
from releases.services import release_authorize

READ_SCOPES = (TokenScope.READ, TokenScope.DEPLOYMENTS)
# Ids are 64-bit integers; a larger number names no release (and must not reach the database).
MAX_ID = 2**63 - 1


def _valid(serializer_class, request) -> dict:
    return body_valid(serializer_class, request)


def _release_named(request):
    """The release the body names, checked for the caller's right to deploy it; None when it names none.

    Asked before the rest of the body is read: 404 for a release the caller cannot
    see, 403 when they may not deploy it. A body naming no release (or not an id) is
    refused at once to someone who may change nothing anywhere; others get the 400.
    """
    value = body_field(request, "release")
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        require_writing_role_somewhere(request.user)
        return None
    if not 0 < value <= MAX_ID:
        raise NotFound("No such release.")
    release = release_get(user=request.user, pk=value)
    release_authorize(release=release, actor=request.user, action="deploy")
    return release


@extend_schema_view(
    retrieve=extend_schema(
        summary="A deployment with its monitoring windows",
        responses={200: MonitoredDeploymentSerializer, **error_responses(401, 403, 404)},
    ),
)
class MonitoredDeploymentViewSet(viewsets.GenericViewSet):
    serializer_class = MonitoredDeploymentSerializer
    lookup_value_regex = r"\d+"
    filter_backends: list = []
    token_read_scopes = READ_SCOPES

    def retrieve(self, request, pk=None):
        deployment = deployment_get(user=request.user, pk=pk)
        # Not a model field: MonitoredDeploymentSerializer.get_windows reads it.
        cast(Any, deployment).monitored_windows = selectors.deployment_windows(
            user=request.user, deployment_id=deployment.pk
        )
        return Response(MonitoredDeploymentSerializer(deployment).data)

    @extend_schema(
        summary="Start a deployment with a strategy",
        description="Promotes the release into the environment if every gate is open (else 409 "
        "`gate_closed` with each gate's reason). A canary deployment opens its canary window at once; "
        "poll the window and continue the rollout when its `proceed` is true. Tokens need the "
        "`deployments` scope.",
        request=DeploymentStartSerializer,
        responses={201: MonitoredDeploymentSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def create(self, request):
        require_token_scopes(request.user, TokenScope.DEPLOYMENTS)
        release = _release_named(request)
        data = _valid(DeploymentStartSerializer, request)
        named = data.pop("release")
        if release is None:  # an id the first look did not take (5.0): a writer's, asked now
            release = release_get(user=request.user, pk=named)
            release_authorize(release=release, actor=request.user, action="deploy")
        environment = environment_get(release=release, name_or_id=data.pop("environment"))
        deployment = services.deployment_start(
            release=release, environment=environment, actor=request.user, **data
        )
        # Not a model field: MonitoredDeploymentSerializer.get_windows reads it.
        cast(Any, deployment).monitored_windows = selectors.deployment_windows(
            user=request.user, deployment_id=deployment.pk
        )
        return Response(
            MonitoredDeploymentSerializer(deployment).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        summary="Report a deployment finished or failed",
        description='`{"status": "succeeded" | "failed", "reason": "..."}`, as everywhere else. '
        "`succeeded` is refused (409) while the deployment's canary is still watched or "
        "waits for a person; a production success then opens the post-deploy window, and the release is "
        "released when that passes. `failed` cancels open windows. The old `succeeded: true|false` "
        "is accepted until 2027-06-01, with `Deprecation` and `Sunset` headers on the answer.",
        request=DeploymentReportSerializer,
        responses={200: MonitoredDeploymentSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def report(self, request, pk=None):
        from releases.services import deployment_finish

        require_token_scopes(request.user, TokenScope.DEPLOYMENTS)
        deployment = deployment_get(user=request.user, pk=pk)
        release_authorize(release=deployment.release, actor=request.user, action="finish")
        data = _valid(DeploymentReportSerializer, request)
        deployment = deployment_finish(
            deployment=deployment,
            succeeded=data["status"] == DeploymentStatus.SUCCEEDED,
            actor=request.user,
            reason=data["reason"],
        )
        # Not a model field: MonitoredDeploymentSerializer.get_windows reads it.
        cast(Any, deployment).monitored_windows = selectors.deployment_windows(
            user=request.user, deployment_id=deployment.pk
        )
        return deprecation_mark(
            Response(MonitoredDeploymentSerializer(deployment).data), data[USED_KEY]
        )


STATUS_PARAM = OpenApiParameter(
    "status",
    str,
    enum=WindowStatus.values,
    required=False,
    description="Only windows in this status.",
)
PROJECT_PARAM = OpenApiParameter("project", str, required=False, description="Project slug.")
CHECK_PARAM = OpenApiParameter(
    "check", int, required=False, description="Only samples of this check id."
)


@extend_schema_view(
    list=extend_schema(
        summary="Monitoring windows visible to the caller, newest first",
        parameters=[STATUS_PARAM, PROJECT_PARAM],
        responses={200: WindowSerializer(many=True), **error_responses(401, 403)},
    ),
    retrieve=extend_schema(
        summary="A window's status, verdict, checks and rollback hook calls",
        responses={200: WindowDetailSerializer, **error_responses(401, 403, 404)},
    ),
)
class WindowViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = WindowSerializer
    lookup_value_regex = r"\d+"
    filter_backends: list = []
    token_read_scopes = READ_SCOPES

    def get_queryset(self):
        filters = {
            "status": self.request.query_params.get("status", ""),
            "project": self.request.query_params.get("project", ""),
        }
        return selectors.window_list(user=self.request.user, filters=filters)

    def retrieve(self, request, pk=None):
        window = selectors.window_get(user=request.user, pk=pk)
        return Response(WindowDetailSerializer(window).data)

    @extend_schema(
        summary="A window's samples, oldest first",
        parameters=[CHECK_PARAM],
        responses={200: SampleSerializer(many=True), **error_responses(401, 403, 404)},
    )
    @action(detail=True, methods=["get"], serializer_class=SampleSerializer)
    def samples(self, request, pk=None):
        window = selectors.window_get(user=request.user, pk=pk)
        qs = selectors.sample_list(window=window)
        check = request.query_params.get("check", "")
        if check:
            qs = qs.filter(window_check_id=int(check)) if check.isdigit() else qs.none()
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(SampleSerializer(page, many=True).data)
