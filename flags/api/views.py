"""The flags API: flags per environment, rollout plans of a release and their actions.

The same services as the pages. Order of the questions (docs/api.md): can the
caller see the project (404), may they act (403), then the body (400).
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from core.api.input import body_valid
from core.api.schema import error_responses
from core.exceptions import NotFound, ValidationFailed
from flags import services
from flags.api.serializers import (
    FlagInputSerializer,
    FlagSerializer,
    PlanInputSerializer,
    PlanReasonSerializer,
    PlanSerializer,
)
from flags.models import Flag, RolloutPlan
from monitoring.selectors import environment_get as monitored_environment_get
from releases.selectors import environment_get, release_get

PROJECT = OpenApiParameter("project", str, OpenApiParameter.PATH, description="The project's slug.")
ENVIRONMENT = OpenApiParameter(
    "environment", str, OpenApiParameter.PATH, description="The environment's name."
)
KEY = OpenApiParameter("key", str, OpenApiParameter.PATH, description="The flag's key.")
RELEASE = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The release's id.")
PLAN = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The plan's id.")


def _environment(request, project: str, environment: str):
    return monitored_environment_get(user=request.user, project_slug=project, name=environment)


def _flag(request, project: str, environment: str, key: str) -> Flag:
    env = _environment(request, project, environment)
    flag = Flag.objects.filter(environment=env, key=key[:100]).select_related("environment").first()
    if flag is None:
        raise NotFound(f"No flag '{key[:100]}' in {env.name}.")
    return flag


def _plans():
    return RolloutPlan.objects.select_related("environment").prefetch_related("steps")


def _plan(request, pk: int) -> RolloutPlan:
    plan = _plans().filter(pk=pk).first()
    if plan is None:
        raise NotFound("No such rollout plan.")
    release_get(user=request.user, pk=plan.release_id)  # 404 for what the caller may not see
    return plan


@extend_schema_view(
    get=extend_schema(
        summary="The flags of an environment",
        parameters=[PROJECT, ENVIRONMENT],
        responses={200: FlagSerializer(many=True), **error_responses(401, 404)},
    ),
    post=extend_schema(
        summary="Create a flag (release managers, engineers, admins; tokens: deployments)",
        description="A new flag is off at 0 % unless `enabled` and `rollout` say otherwise.",
        parameters=[PROJECT, ENVIRONMENT],
        request=FlagInputSerializer,
        responses={201: FlagSerializer, **error_responses(400, 401, 403, 404)},
    ),
)
class FlagCollectionView(GenericAPIView):
    serializer_class = FlagSerializer
    filter_backends: list = []

    def get(self, request, project: str, environment: str):
        env = _environment(request, project, environment)
        page = self.paginate_queryset(
            Flag.objects.filter(environment=env).select_related("environment").order_by("key")
        )
        return self.get_paginated_response(FlagSerializer(page, many=True).data)

    def post(self, request, project: str, environment: str):
        env = _environment(request, project, environment)
        services.flag_authorize(request.user, env)
        data = body_valid(FlagInputSerializer, request)
        data.pop("reason", None)
        if "key" not in data:
            raise ValidationFailed("Name the flag's key.", details={"key": "Required."})
        flag = services.flag_create(environment=env, actor=request.user, **data)
        return Response(FlagSerializer(flag).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(
        summary="One flag",
        parameters=[PROJECT, ENVIRONMENT, KEY],
        responses={200: FlagSerializer, **error_responses(401, 404)},
    ),
    patch=extend_schema(
        summary="Change a flag: switch, rollout, stickiness, group, beta testers",
        description="Fields left out keep their value; audited with before and after.",
        parameters=[PROJECT, ENVIRONMENT, KEY],
        request=FlagInputSerializer,
        responses={200: FlagSerializer, **error_responses(400, 401, 403, 404)},
    ),
)
class FlagDetailView(GenericAPIView):
    serializer_class = FlagSerializer
    filter_backends: list = []
    pagination_class = None

    def get(self, request, project: str, environment: str, key: str):
        return Response(FlagSerializer(_flag(request, project, environment, key)).data)

    def patch(self, request, project: str, environment: str, key: str):
        flag = _flag(request, project, environment, key)
        services.flag_authorize(request.user, flag.environment)
        data = body_valid(FlagInputSerializer, request)
        data.pop("key", None)
        reason = data.pop("reason", "")
        flag = services.flag_update(flag=flag, actor=request.user, reason=reason, **data)
        return Response(FlagSerializer(flag).data)


@extend_schema_view(
    get=extend_schema(
        summary="The rollout plans of a release",
        parameters=[RELEASE],
        responses={200: PlanSerializer(many=True), **error_responses(401, 404)},
    ),
    post=extend_schema(
        summary="Plan a flag's gradual rollout on a release",
        description="Steps default to 10, 25, 50, 100 % held a week each; each step is "
        "`{percent, hold_seconds}` with rising percentages. `checks`: names of the "
        "environment's monitoring checks watching each step (all enabled ones when left out).",
        parameters=[RELEASE],
        request=PlanInputSerializer,
        responses={201: PlanSerializer, **error_responses(400, 401, 403, 404, 409)},
    ),
)
class PlanCollectionView(GenericAPIView):
    serializer_class = PlanSerializer
    filter_backends: list = []

    def get(self, request, id: int):
        release = release_get(user=request.user, pk=id)
        page = self.paginate_queryset(_plans().filter(release=release).order_by("created_at", "id"))
        return self.get_paginated_response(PlanSerializer(page, many=True).data)

    def post(self, request, id: int):
        release = release_get(user=request.user, pk=id)
        services.plan_authorize(release=release, actor=request.user)
        data = body_valid(PlanInputSerializer, request)
        environment = environment_get(release=release, name_or_id=data["environment"])
        plan = services.plan_create(
            release=release,
            environment=environment,
            actor=request.user,
            flag_key=data["flag"],
            source=data["flag_source"],
            steps=data.get("steps"),
            auto_advance=data["auto_advance"],
            disable_on_fail=data["disable_on_fail"],
            check_names=data.get("checks"),
            rollback_hook_url=data.get("rollback_hook_url", ""),
            rollback_hook_secret=data.get("rollback_hook_secret", ""),
        )
        return Response(PlanSerializer(_plans().get(pk=plan.pk)).data, status=201)


@extend_schema(
    summary="One rollout plan with its steps",
    parameters=[PLAN],
    responses={200: PlanSerializer, **error_responses(401, 404)},
)
class PlanDetailView(GenericAPIView):
    serializer_class = PlanSerializer
    filter_backends: list = []
    pagination_class = None

    def get(self, request, id: int):
        return Response(PlanSerializer(_plan(request, id)).data)


ACTION_TEXT = {
    "start": "Start: apply the first step and watch it",
    "advance": "Advance to the next step now (or complete after the last)",
    "pause": "Pause: keep the percentage, stop watching",
    "resume": "Resume a paused plan: set the current step again and watch it afresh",
    "skip": "Skip the next step",
    "abort": "Abort: the flag goes back to 0 %",
    "complete": "Complete: 100 %, the remaining steps skipped",
}


def _action_view(action: str):
    service = getattr(services, f"plan_{action}")

    class PlanActionView(GenericAPIView):
        serializer_class = PlanSerializer
        filter_backends: list = []
        pagination_class = None

        @extend_schema(
            summary=ACTION_TEXT[action],
            description="Audited with the percentage before and after and the verdict of the step.",
            parameters=[PLAN],
            request=PlanReasonSerializer,
            responses={200: PlanSerializer, **error_responses(400, 401, 403, 404, 409)},
            operation_id=f"flags_plan_{action}",
        )
        def post(self, request, id: int):
            plan = _plan(request, id)
            services.plan_authorize(release=plan.release, actor=request.user)
            data = body_valid(PlanReasonSerializer, request)
            kwargs = {} if action == "start" else {"reason": data.get("reason", "")}
            service(plan=plan, actor=request.user, **kwargs)
            return Response(PlanSerializer(_plans().get(pk=plan.pk)).data)

    PlanActionView.__name__ = f"Plan{action.capitalize()}View"
    PlanActionView.__qualname__ = PlanActionView.__name__
    return PlanActionView


ACTION_VIEWS = {action: _action_view(action) for action in ACTION_TEXT}
