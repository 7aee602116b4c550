"""Approval policies over HTTP: what each environment asks for before a release may enter it.

The same service as the policies page (``approvals.services.approval_policy_update``),
so a refusal reads the same in both. Order (docs/api.md): API tokens are refused
first (people change the rules, pipelines are checked against them), then the
project must be visible (404), the caller a project admin (403), the body valid (400).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from approvals import services
from approvals.api.serializers import ApprovalPolicyDetailSerializer, ApprovalPolicyInputSerializer
from approvals.models import ApprovalPolicy
from approvals.selectors import policy_rows, project_for_admin
from core.api.input import body_valid, require_person
from core.api.schema import error_responses
from core.exceptions import NotFound

PROJECT = OpenApiParameter(
    "project", str, OpenApiParameter.PATH, description="The project's slug, e.g. payments."
)
ENVIRONMENT = OpenApiParameter(
    "environment",
    str,
    OpenApiParameter.PATH,
    description="The environment's name, e.g. production.",
)


def _row(request, project: str, environment: str):
    found = project_for_admin(user=request.user, slug=project)
    for env, policy in policy_rows(project=found):
        if env.name == environment:
            env.project = found
            policy.environment = env
            return env, policy
    raise NotFound("No such environment in this project.")


class ApprovalPolicyListView(GenericAPIView):
    serializer_class = ApprovalPolicyDetailSerializer
    filter_backends: list = []

    def get_queryset(self):
        return ApprovalPolicy.objects.none()

    @extend_schema(
        summary="Each environment's approval policy, in promotion order",
        description="Environments without a saved policy show the defaults (`saved: false`).",
        parameters=[PROJECT],
        responses={
            200: ApprovalPolicyDetailSerializer(many=True),
            **error_responses(401, 403, 404),
        },
    )
    def get(self, request, project: str):
        found = project_for_admin(user=request.user, slug=project)
        policies = []
        for env, policy in policy_rows(project=found):
            env.project = found
            policy.environment = env
            policies.append(policy)
        page = self.paginate_queryset(policies)
        return self.get_paginated_response(ApprovalPolicyDetailSerializer(page, many=True).data)


class ApprovalPolicyView(GenericAPIView):
    serializer_class = ApprovalPolicyDetailSerializer
    filter_backends: list = []
    pagination_class = None

    def get_queryset(self):
        return ApprovalPolicy.objects.none()

    @extend_schema(
        summary="One environment's approval policy",
        parameters=[PROJECT, ENVIRONMENT],
        responses={200: ApprovalPolicyDetailSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request, project: str, environment: str):
        _env, policy = _row(request, project, environment)
        return Response(ApprovalPolicyDetailSerializer(policy).data)

    @extend_schema(
        summary="Change one environment's approval policy (project admins)",
        description="Fields left out keep their value. Audited as `approval_policy.updated` with "
        "each changed field's old and new value.",
        parameters=[PROJECT, ENVIRONMENT],
        request=ApprovalPolicyInputSerializer,
        responses={200: ApprovalPolicyDetailSerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request, project: str, environment: str):
        require_person(request.user, "approval policies")
        env, _policy = _row(request, project, environment)
        services.policy_authorize(project=env.project_id, actor=request.user)
        data = body_valid(ApprovalPolicyInputSerializer, request)
        services.approval_policy_update(environment=env, actor=request.user, **data)
        _env, policy = _row(request, project, environment)
        return Response(ApprovalPolicyDetailSerializer(policy).data)
