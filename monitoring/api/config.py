"""The monitoring configuration API: an environment's policy, its rollback hook and its checks.

The same services as the environment's monitoring page
(``monitoring.services.config``), so the rules and refusal sentences are the
page's. Order of the questions (docs/api.md): can the caller see the project
and environment (404), may they configure it (403: project admins, people
only), then the body (400). Secrets are write-only: check headers and the
hook's secret are never answered, and an edit that leaves them out keeps them.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from core.api.input import body_valid, require_person
from core.api.schema import error_responses
from core.exceptions import ValidationFailed
from monitoring import selectors, services
from monitoring.api.config_serializers import (
    HealthCheckInputSerializer,
    HealthCheckSerializer,
    MetricCheckInputSerializer,
    MetricCheckSerializer,
    MonitoringPolicyInputSerializer,
    MonitoringPolicySerializer,
    RollbackHookInputSerializer,
    RollbackHookSerializer,
)
from monitoring.choices import CheckKind
from monitoring.models import HealthCheck, MetricCheck
from monitoring.services.config import policy_for

PROJECT = OpenApiParameter(
    "project", str, OpenApiParameter.PATH, description="The project's slug, e.g. payments."
)
ENVIRONMENT = OpenApiParameter(
    "environment",
    str,
    OpenApiParameter.PATH,
    description="The environment's name, e.g. production.",
)
CHECK_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The check's id.")

KINDS: dict[
    str,
    tuple[
        type[HealthCheck] | type[MetricCheck],
        type[serializers.Serializer],
        type[serializers.Serializer],
    ],
] = {
    CheckKind.HEALTH: (HealthCheck, HealthCheckSerializer, HealthCheckInputSerializer),
    CheckKind.METRIC: (MetricCheck, MetricCheckSerializer, MetricCheckInputSerializer),
}


def _environment(request, project: str, environment: str):
    return selectors.environment_get(user=request.user, project_slug=project, name=environment)


def _policy(environment):
    policy = policy_for(environment)
    policy.environment = environment
    return policy


def _renamed(exc: ValidationFailed, rename) -> ValidationFailed:
    return ValidationFailed(exc.message, details=rename(exc.details), code=exc.code)


# The policy of an environment, or a part of it, read and changed under the API's names:
# ``serializer_class`` answers; ``input_serializer`` reads the body and maps its names to
# the policy service's and the service's refusals back. Each subclass documents its two
# operations with ``extend_schema_view``. (Comments, not a docstring: the schema would
# show a docstring as the description of every operation that has none.)
class _PolicyPartView(GenericAPIView):
    filter_backends: list = []
    pagination_class = None
    input_serializer: type[MonitoringPolicyInputSerializer] | type[RollbackHookInputSerializer]

    def get(self, request, project: str, environment: str):
        env = _environment(request, project, environment)
        return Response(self.get_serializer_class()(_policy(env)).data)

    def patch(self, request, project: str, environment: str):
        require_person(request.user, "monitoring configuration")
        env = _environment(request, project, environment)
        services.config_authorize(environment=env, actor=request.user)
        inp = self.input_serializer
        data = body_valid(inp, request)
        try:
            services.policy_update(environment=env, actor=request.user, **inp.service_data(data))
        except ValidationFailed as exc:
            raise _renamed(exc, inp.api_details) from None
        return Response(self.get_serializer_class()(_policy(env)).data)


@extend_schema_view(
    get=extend_schema(
        summary="An environment's monitoring policy",
        description="Durations and intervals in seconds. `saved: false`: the environment runs on "
        "the defaults. `limits` says what every policy must respect.",
        parameters=[PROJECT, ENVIRONMENT],
        responses={200: MonitoringPolicySerializer, **error_responses(401, 403, 404)},
    ),
    patch=extend_schema(
        summary="Change an environment's monitoring policy (project admins)",
        description="Fields left out keep their value. Refused (400) when the poll interval is "
        "shorter than the scheduler's tick, or a window is too short for the measurements a "
        "verdict needs (`limits` in the answer). The hook secret is write-only.",
        parameters=[PROJECT, ENVIRONMENT],
        request=MonitoringPolicyInputSerializer,
        responses={200: MonitoringPolicySerializer, **error_responses(400, 401, 403, 404)},
    ),
)
class PolicyView(_PolicyPartView):
    serializer_class = MonitoringPolicySerializer
    input_serializer = MonitoringPolicyInputSerializer


@extend_schema_view(
    get=extend_schema(
        summary="An environment's rollback hook (its secret is never answered)",
        parameters=[PROJECT, ENVIRONMENT],
        responses={200: RollbackHookSerializer, **error_responses(401, 403, 404)},
    ),
    patch=extend_schema(
        summary="Set, change or remove an environment's rollback hook (project admins)",
        description="The same setting as `rollback_hook_url` / `rollback_hook_secret` of the "
        "policy. Left out: kept. An empty `url` removes the hook; an empty `secret` removes the "
        "secret.",
        parameters=[PROJECT, ENVIRONMENT],
        request=RollbackHookInputSerializer,
        responses={200: RollbackHookSerializer, **error_responses(400, 401, 403, 404)},
    ),
)
class RollbackHookView(_PolicyPartView):
    serializer_class = RollbackHookSerializer
    input_serializer = RollbackHookInputSerializer


def _check_collection(kind: str):
    model, out, inp = KINDS[kind]
    noun = "health" if kind == CheckKind.HEALTH else "metric"

    class CheckCollectionView(GenericAPIView):
        serializer_class = out
        filter_backends: list = []

        def get_queryset(self):
            return model.objects.none()

        @extend_schema(
            summary=f"An environment's {noun} checks, by name",
            parameters=[PROJECT, ENVIRONMENT],
            responses={200: out(many=True), **error_responses(401, 403, 404)},
        )
        def get(self, request, project: str, environment: str):
            env = _environment(request, project, environment)
            qs = model.objects.filter(environment=env).select_related("environment__project")
            page = self.paginate_queryset(qs.order_by("name", "id"))
            return self.get_paginated_response(out(page, many=True).data)

        @extend_schema(
            summary=f"Add a {noun} check to an environment (project admins)",
            description="`headers` are write-only: answered as `header_names` only.",
            parameters=[PROJECT, ENVIRONMENT],
            request=inp,
            responses={201: out, **error_responses(400, 401, 403, 404)},
        )
        def post(self, request, project: str, environment: str):
            require_person(request.user, "monitoring configuration")
            env = _environment(request, project, environment)
            services.config_authorize(environment=env, actor=request.user)
            data = body_valid(inp, request)
            check = services.check_create(environment=env, kind=kind, actor=request.user, **data)
            return Response(out(check).data, status=status.HTTP_201_CREATED)

    CheckCollectionView.__name__ = f"{noun.capitalize()}CheckCollectionView"
    CheckCollectionView.__qualname__ = CheckCollectionView.__name__
    return CheckCollectionView


def _check_detail(kind: str):
    model, out, inp = KINDS[kind]
    noun = "health" if kind == CheckKind.HEALTH else "metric"

    class CheckDetailView(GenericAPIView):
        serializer_class = out
        filter_backends: list = []
        pagination_class = None

        def get_queryset(self):
            return model.objects.none()

        def _check(self, request, pk):
            return selectors.check_get(user=request.user, kind=kind, pk=pk)

        @extend_schema(
            summary=f"One {noun} check",
            parameters=[CHECK_ID],
            responses={200: out, **error_responses(401, 403, 404)},
        )
        def get(self, request, pk: int):
            return Response(out(self._check(request, pk)).data)

        @extend_schema(
            summary=f"Change a {noun} check (project admins)",
            description="Fields left out keep their value; so do the stored `headers` when the "
            "body has none (`{}` removes them). Running windows keep the settings they started "
            "with.",
            parameters=[CHECK_ID],
            request=inp,
            responses={200: out, **error_responses(400, 401, 403, 404)},
        )
        def patch(self, request, pk: int):
            require_person(request.user, "monitoring configuration")
            check = self._check(request, pk)
            services.config_authorize(environment=check.environment, actor=request.user)
            data = body_valid(inp, request)
            check = services.check_update(
                check=check, actor=request.user, keep_headers="headers" not in data, **data
            )
            return Response(out(check).data)

        @extend_schema(
            summary=f"Delete a {noun} check (project admins)",
            description="Windows that watched it keep their samples and verdicts.",
            parameters=[CHECK_ID],
            request=None,
            responses={204: None, **error_responses(401, 403, 404)},
        )
        def delete(self, request, pk: int):
            require_person(request.user, "monitoring configuration")
            check = self._check(request, pk)
            services.check_delete(check=check, actor=request.user)
            return Response(status=status.HTTP_204_NO_CONTENT)

    CheckDetailView.__name__ = f"{noun.capitalize()}CheckDetailView"
    CheckDetailView.__qualname__ = CheckDetailView.__name__
    return CheckDetailView


HealthCheckCollectionView = _check_collection(CheckKind.HEALTH)
MetricCheckCollectionView = _check_collection(CheckKind.METRIC)
HealthCheckDetailView = _check_detail(CheckKind.HEALTH)
MetricCheckDetailView = _check_detail(CheckKind.METRIC)
