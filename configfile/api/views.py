"""The configuration API: export, plan and apply ``shipcheck.yml``, and its JSON Schema.

Thin: the caller's right is asked before the body is read (404 for a project
they may not see, 403 for a member who may not change it); the services do
the rest. The schema is public so editors can fetch it without a token.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from configfile import services
from configfile.api.serializers import (
    ConfigApplyInputSerializer,
    ConfigExportSerializer,
    ConfigInputSerializer,
    ConfigPlanSerializer,
)
from configfile.permissions import NOT_FOUND, config_write_actor
from configfile.schema import config_schema
from core.api.input import body_valid
from core.api.schema import error_responses
from core.exceptions import NotFound
from projects.choices import TokenScope
from projects.models import Project


def _project(slug: str) -> Project:
    project = Project.objects.filter(slug=slug).first()
    if project is None:
        raise NotFound(NOT_FOUND)
    return project


class ConfigExportView(APIView):
    token_read_scopes = (TokenScope.READ, TokenScope.CONFIG)

    @extend_schema(
        summary="Export the project's configuration as shipcheck.yml",
        description="Everyone who may see the project may export it (secrets are written as "
        "names of environment variables, never as values).",
        responses={200: ConfigExportSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request, slug: str):
        export = services.config_export(project=_project(slug), user=request.user)
        return Response(ConfigExportSerializer(export).data)


class ConfigPlanView(APIView):
    @extend_schema(
        summary="Show what applying a shipcheck.yml would change (changes nothing)",
        description="Project admins, staff, and API tokens with the `config` scope. A file with "
        "problems answers 400 `config_invalid` with `details.errors`: each problem with its "
        "`line`, `column`, `path` and `message`.",
        request=ConfigInputSerializer,
        responses={200: ConfigPlanSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request, slug: str):
        project = _project(slug)
        config_write_actor(user=request.user, project=project)
        body = body_valid(ConfigInputSerializer, request)
        plan = services.config_plan(
            project=project, user=request.user, text=body["yaml"], secrets=body["secrets"]
        )
        return Response(ConfigPlanSerializer({**plan.as_dict(), "applied": False}).data)


class ConfigApplyView(APIView):
    @extend_schema(
        summary="Apply a shipcheck.yml in one transaction",
        description="Idempotent: applying the same file again changes nothing. With `expect`, a "
        "server whose configuration changed since the plan answers 409 `stale_plan`. A file with "
        "problems answers 400 `config_invalid` and nothing is applied.",
        request=ConfigApplyInputSerializer,
        responses={200: ConfigPlanSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request, slug: str):
        project = _project(slug)
        config_write_actor(user=request.user, project=project)
        body = body_valid(ConfigApplyInputSerializer, request)
        plan = services.config_apply(
            project=project,
            user=request.user,
            text=body["yaml"],
            secrets=body["secrets"],
            expect=body.get("expect") or None,
        )
        return Response(
            ConfigPlanSerializer({**plan.as_dict(), "applied": bool(plan.changes)}).data
        )


class ConfigSchemaView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        summary="The JSON Schema of shipcheck.yml (public, for editors)",
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        return Response(config_schema())
