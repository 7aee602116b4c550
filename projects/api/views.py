"""Projects, their environments, members and API tokens over HTTP.

Each write asks the caller's right on the project first (a token, or a person who
is not a project admin or staff, gets 403 whatever the body holds), then validates
the body, then calls the same service the settings pages call. What the caller may
not see is 404.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.input import body_valid
from core.api.schema import error_responses
from core.exceptions import NotFound, PermissionDenied
from projects import services
from projects.api.serializers import (
    ChangeReasonSerializer,
    EnvironmentCreateSerializer,
    EnvironmentReorderSerializer,
    EnvironmentSerializer,
    EnvironmentUpdateSerializer,
    MemberChangeSerializer,
    MemberSerializer,
    ProjectCreateSerializer,
    ProjectSerializer,
    ProjectUpdateSerializer,
    TokenCreatedSerializer,
    TokenCreateSerializer,
    TokenSerializer,
)
from projects.models import ApiToken, Environment, Membership
from projects.permissions import can_admin_project, is_staff_admin
from projects.principals import is_token
from projects.selectors import (
    environment_by_name,
    person_find,
    project_get,
    project_manageable_list,
    project_with_environments,
)

SLUG_PARAM = OpenApiParameter(
    "project_slug", OpenApiTypes.STR, OpenApiParameter.PATH, description="The project's slug."
)
ENV_PARAM = OpenApiParameter(
    "environment", OpenApiTypes.STR, OpenApiParameter.PATH, description="Environment name, e.g. qa."
)
ARCHIVED_PARAM = OpenApiParameter(
    "archived",
    OpenApiTypes.BOOL,
    OpenApiParameter.QUERY,
    required=False,
    description="true: archived projects too (hidden by default).",
)
TOKEN_ID_PARAM = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)


def require_manager(user, project) -> None:
    """403 unless ``user`` is a person who manages ``project`` (its admin, or staff)."""
    if is_token(user):
        raise PermissionDenied(
            "API tokens cannot manage projects; a project admin signs in to do it.",
            code="token_not_allowed",
        )
    if not can_admin_project(user, project):
        raise PermissionDenied(
            "Only a project admin or a staff administrator may change this project's settings."
        )


def _truthy(value) -> bool:
    return str(value).lower() in ("1", "true", "yes", "on")


@extend_schema_view(
    list=extend_schema(
        summary="Projects visible to the caller, with their promotion order",
        description="Staff administrators see every project. Archived projects are left out "
        "unless `archived=true`.",
        parameters=[ARCHIVED_PARAM],
        responses={200: ProjectSerializer(many=True), **error_responses(401, 403)},
    ),
    retrieve=extend_schema(
        summary="One project by slug",
        responses={200: ProjectSerializer, **error_responses(401, 403, 404)},
    ),
)
class ProjectViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ProjectSerializer
    lookup_field = "slug"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"

    def get_queryset(self):
        qs = project_with_environments(
            project_manageable_list(user=self.request.user).order_by("name", "pk")
        )
        if self.action == "list" and not _truthy(self.request.query_params.get("archived")):
            qs = qs.filter(archived_at__isnull=True)
        return qs

    def _answer(self, project, code=status.HTTP_200_OK) -> Response:
        fresh = project_with_environments(project_manageable_list(user=self.request.user)).get(
            pk=project.pk
        )
        return Response(self.get_serializer(fresh).data, status=code)

    @extend_schema(
        summary="Create a project (staff administrators)",
        description="With its environments in promotion order (default dev → staging → "
        "production). The creator becomes its project admin. API tokens cannot create projects.",
        request=ProjectCreateSerializer,
        responses={201: ProjectSerializer, **error_responses(400, 401, 403)},
    )
    def create(self, request):
        if not is_staff_admin(request.user):
            raise PermissionDenied(
                "Only a staff administrator may create projects.",
                code="token_not_allowed" if is_token(request.user) else None,
            )
        data = body_valid(ProjectCreateSerializer, request)
        environments = data.get("environments")
        project = services.project_create(
            name=data["name"],
            slug=data.get("slug") or None,
            description=data.get("description", ""),
            actor=request.user,
            environments=[dict(e) for e in environments] if environments is not None else None,
        )
        return self._answer(project, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Rename a project or change its description",
        request=ProjectUpdateSerializer,
        responses={200: ProjectSerializer, **error_responses(400, 401, 403, 404)},
    )
    def partial_update(self, request, slug=None):
        project = project_get(user=request.user, slug=slug)
        require_manager(request.user, project)
        data = body_valid(ProjectUpdateSerializer, request)
        project = services.project_update(
            project=project,
            actor=request.user,
            name=data.get("name"),
            description=data.get("description"),
        )
        return self._answer(project)

    @extend_schema(
        summary="Archive a project",
        description="Hidden from lists, refuses new releases and promotions; its history stays.",
        request=ChangeReasonSerializer,
        responses={200: ProjectSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def archive(self, request, slug=None):
        project = project_get(user=request.user, slug=slug)
        require_manager(request.user, project)
        data = body_valid(ChangeReasonSerializer, request)
        project = services.project_archive(
            project=project, actor=request.user, reason=data.get("reason", "")
        )
        return self._answer(project)


class _ProjectScoped(viewsets.GenericViewSet):
    """A project's sub-resource: the project from the URL, 404 unless the caller sees it."""

    def project(self):
        if not hasattr(self, "_project"):
            self._project = project_get(user=self.request.user, slug=self.kwargs["project_slug"])
        return self._project


@extend_schema(parameters=[SLUG_PARAM])
@extend_schema_view(
    list=extend_schema(
        summary="A project's environments, in promotion order (retired ones after)",
        responses={200: EnvironmentSerializer(many=True), **error_responses(401, 403, 404)},
    ),
)
class EnvironmentViewSet(mixins.ListModelMixin, _ProjectScoped):
    serializer_class = EnvironmentSerializer
    lookup_field = "name"
    lookup_url_kwarg = "environment"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Environment.objects.none()
        return Environment.objects.filter(project=self.project()).order_by("order")

    @extend_schema(
        summary="Add an environment",
        request=EnvironmentCreateSerializer,
        responses={201: EnvironmentSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def create(self, request, project_slug=None):
        project = self.project()
        require_manager(request.user, project)
        data = body_valid(EnvironmentCreateSerializer, request)
        env = services.environment_create(
            project=project,
            name=data["name"],
            tier=data["tier"],
            display_name=data.get("display_name", ""),
            position=data.get("position"),
            actor=request.user,
        )
        return Response(EnvironmentSerializer(env).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Rename an environment (display name) or change its tier",
        parameters=[ENV_PARAM],
        request=EnvironmentUpdateSerializer,
        responses={200: EnvironmentSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def partial_update(self, request, project_slug=None, environment=None):
        project = self.project()
        env = environment_by_name(project=project, name=environment)
        require_manager(request.user, project)
        data = body_valid(EnvironmentUpdateSerializer, request)
        env = services.environment_update(
            environment=env,
            actor=request.user,
            display_name=data.get("display_name"),
            tier=data.get("tier"),
        )
        return Response(EnvironmentSerializer(env).data)

    @extend_schema(
        summary="Put the active environments in a new promotion order",
        request=EnvironmentReorderSerializer,
        responses={200: EnvironmentSerializer(many=True), **error_responses(400, 401, 403, 404)},
    )
    @action(detail=False, methods=["post"])
    def reorder(self, request, project_slug=None):
        project = self.project()
        require_manager(request.user, project)
        data = body_valid(EnvironmentReorderSerializer, request)
        envs = services.environment_reorder(
            project=project, names=data["names"], actor=request.user
        )
        return Response(EnvironmentSerializer(envs, many=True).data)

    @extend_schema(
        summary="Retire an environment",
        description="It leaves the promotion order; its deployments and history stay. Refused "
        "while a deployment is running in it.",
        parameters=[ENV_PARAM],
        request=ChangeReasonSerializer,
        responses={200: EnvironmentSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def retire(self, request, project_slug=None, environment=None):
        project = self.project()
        env = environment_by_name(project=project, name=environment)
        require_manager(request.user, project)
        data = body_valid(ChangeReasonSerializer, request)
        env = services.environment_retire(
            environment=env, actor=request.user, reason=data.get("reason", "")
        )
        return Response(EnvironmentSerializer(env).data)


@extend_schema(parameters=[SLUG_PARAM])
@extend_schema_view(
    list=extend_schema(
        summary="Who holds which role in the project (one row per person and role)",
        responses={200: MemberSerializer(many=True), **error_responses(401, 403, 404)},
    ),
)
class MemberViewSet(mixins.ListModelMixin, _ProjectScoped):
    serializer_class = MemberSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Membership.objects.none()
        return (
            Membership.objects.filter(project=self.project())
            .select_related("user")
            .order_by("user__username", "role")
        )

    @extend_schema(
        summary="Give an existing person a role",
        description="Holding it already changes nothing (200); a new role answers 201.",
        request=MemberChangeSerializer,
        responses={
            201: MemberSerializer,
            200: MemberSerializer,
            **error_responses(400, 401, 403, 404),
        },
    )
    def create(self, request, project_slug=None):
        project = self.project()
        require_manager(request.user, project)
        data = body_valid(MemberChangeSerializer, request)
        user = person_find(identifier=data["user"])
        existed = Membership.objects.filter(project=project, user=user, role=data["role"]).exists()
        membership = services.membership_grant(
            project=project,
            user=user,
            role=data["role"],
            actor=request.user,
            reason=data.get("reason", ""),
        )
        code = status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        return Response(MemberSerializer(membership).data, status=code)

    @extend_schema(
        summary="Take a role away from a person",
        request=MemberChangeSerializer,
        responses={204: None, **error_responses(400, 401, 403, 404, 409)},
    )
    @action(detail=False, methods=["post"])
    def revoke(self, request, project_slug=None):
        project = self.project()
        require_manager(request.user, project)
        data = body_valid(MemberChangeSerializer, request)
        user = person_find(identifier=data["user"])
        services.membership_revoke(
            project=project,
            user=user,
            role=data["role"],
            actor=request.user,
            reason=data.get("reason", ""),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(parameters=[SLUG_PARAM])
@extend_schema_view(
    list=extend_schema(
        summary="The project's API tokens, without their secrets",
        responses={200: TokenSerializer(many=True), **error_responses(401, 403, 404)},
    ),
)
class TokenViewSet(mixins.ListModelMixin, _ProjectScoped):
    serializer_class = TokenSerializer
    lookup_value_regex = r"\d+"

    def project(self):
        project = super().project()
        if is_token(self.request.user):
            raise PermissionDenied(
                "API tokens cannot see or manage tokens; a project admin signs in to do it.",
                code="token_not_allowed",
            )
        return project

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ApiToken.objects.none()
        return (
            ApiToken.objects.filter(project=self.project())
            .select_related("created_by")
            .order_by("-created_at", "-id")
        )

    @extend_schema(
        summary="Create an API token for the project",
        description="The answer carries the secret (`secret`) once; it is never shown again.",
        request=TokenCreateSerializer,
        responses={201: TokenCreatedSerializer, **error_responses(400, 401, 403, 404)},
    )
    def create(self, request, project_slug=None):
        project = self.project()
        require_manager(request.user, project)
        data = body_valid(TokenCreateSerializer, request)
        token, plain = services.api_token_create(
            project=project,
            name=data["name"],
            scopes=data["scopes"],
            expires_at=data.get("expires_at"),
            actor=request.user,
        )
        body = TokenCreatedSerializer(token).data
        body["secret"] = plain
        response = Response(body, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"
        return response

    @extend_schema(
        summary="Revoke an API token at once",
        parameters=[TOKEN_ID_PARAM],
        request=None,
        responses={200: TokenSerializer, **error_responses(401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request, project_slug=None, pk=None):
        project = self.project()
        token = self.get_queryset().filter(pk=int(pk)).first() if len(str(pk)) < 18 else None
        if token is None:
            raise NotFound("No such token in this project.")
        require_manager(request.user, project)
        token = services.api_token_revoke(token=token, actor=request.user)
        return Response(TokenSerializer(token).data)
