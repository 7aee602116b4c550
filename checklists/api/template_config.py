"""Editing checklist templates over HTTP: what the template pages do, through the same services.

Create a template, change its name, description and the release types it is
the default for (which template a project's new releases use), start, edit and
discard the draft (steps and items: add, change, move, delete) and publish it.
Project admins only, people only. Order (docs/api.md): tokens are refused
first, then what the caller cannot see is 404, then the right (403), then the
body (400). Every edit answers the draft as it now is, with the ids the next
edit takes.
"""

from __future__ import annotations

from typing import Any, cast

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from checklists import services
from checklists.api.serializers import (
    DraftSerializer,
    ItemInputSerializer,
    MoveSerializer,
    PublishSerializer,
    StepInputSerializer,
    TemplateCreateSerializer,
    TemplateDetailSerializer,
    TemplateUpdateSerializer,
    TemplateVersionContentSerializer,
)
from checklists.exceptions import TemplateNotEditable
from checklists.models import ItemTemplate, StepTemplate
from checklists.permissions import can_edit_templates
from checklists.selectors import (
    current_draft,
    latest_published,
    template_get,
    template_item_get,
    template_step_get,
    version_steps,
)
from checklists.template_content import version_content
from core.api.input import body_slug, body_valid, require_person
from core.api.schema import error_responses
from core.exceptions import NotFound
from projects.api.permissions import require_writing_role_somewhere
from projects.selectors import project_list

WHAT = "checklist templates"
TEMPLATE_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The template's id.")


def _draft_response(request, template_id: int, *, code: int = status.HTTP_200_OK) -> Response:
    template = template_get(user=request.user, pk=template_id)
    draft = current_draft(template)
    if draft is None:
        raise NotFound("This template has no draft; start one first.")
    draft.step_rows = version_steps(draft)
    return Response(DraftSerializer(draft).data, status=code)


def _editable_template(request, pk):
    """The template, visible (404) and editable by the caller (403), asked before the body."""
    require_person(request.user, WHAT)
    template = template_get(user=request.user, pk=pk)
    _authorize(request, template)
    return template


def _authorize(request, template) -> None:
    if template.project is None:
        # Nobody edits a shipped template; someone who may change nothing hears that first.
        require_writing_role_somewhere(request.user)
        raise TemplateNotEditable(
            "Shipped templates cannot be edited; copy one into your project first."
        )
    services.template_edit_authorize(project=template.project, actor=request.user)


def _detail(request, template) -> dict:
    template = template_get(user=request.user, pk=template.pk)
    template.latest = latest_published(template)
    if template.latest is not None:
        template.latest.content = version_content(template.latest)
    return TemplateDetailSerializer(
        template, context={"request": request, "show_drafts": True}
    ).data


class TemplateEditMixin:
    """Writes on ``/api/v1/checklist-templates/``; mixed into ``ChecklistTemplateViewSet``."""

    @extend_schema(
        summary="Create a project's checklist template (project admins)",
        description="Starts as a draft version 1, empty or a copy of another template's newest "
        "published version. `release_types` makes it the default of those release types in the "
        "project.",
        request=TemplateCreateSerializer,
        responses={201: TemplateDetailSerializer, **error_responses(400, 401, 403, 404)},
    )
    def create(self, request):
        require_person(request.user, WHAT)
        slug = body_slug(request, "project")
        project = None
        if slug is not None:
            project = project_list(user=request.user).filter(slug=slug).first()
            if project is None:
                raise NotFound("No such project.")
            services.template_edit_authorize(project=project, actor=request.user)
        else:
            require_writing_role_somewhere(request.user)
        data = body_valid(TemplateCreateSerializer, request)
        if project is None:
            raise NotFound("No such project.")
        copy_from = None
        if data["copy_from"] is not None:
            source = template_get(user=request.user, pk=data["copy_from"])
            copy_from = latest_published(source)
            if copy_from is None:
                raise NotFound("That template has no published version to copy.")
        template = services.template_create(
            project=project,
            actor=request.user,
            name=data["name"],
            description=data["description"],
            release_types=data["release_types"],
            copy_from=copy_from,
        )
        return Response(_detail(request, template), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Rename a template, describe it, or choose the release types it is the default for",
        description="Not versioned: these say how the template is used. Release types given here "
        "are taken from the project's other templates.",
        parameters=[TEMPLATE_ID],
        request=TemplateUpdateSerializer,
        responses={200: TemplateDetailSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def partial_update(self, request, pk=None):
        template = _editable_template(request, pk)
        data = body_valid(TemplateUpdateSerializer, request)
        services.template_update(template=template, actor=request.user, **data)
        return Response(_detail(request, template))

    @extend_schema(
        methods=["GET"],
        summary="The template's draft with the ids of its steps and items (project admins)",
        parameters=[TEMPLATE_ID],
        responses={200: DraftSerializer, **error_responses(401, 403, 404)},
    )
    @extend_schema(
        methods=["POST"],
        summary="Start the draft (a copy of the newest published version); the draft if one exists",
        parameters=[TEMPLATE_ID],
        request=None,
        responses={200: DraftSerializer, **error_responses(401, 403, 404, 409)},
    )
    @extend_schema(
        methods=["DELETE"],
        summary="Discard the draft",
        parameters=[TEMPLATE_ID],
        request=None,
        responses={204: None, **error_responses(401, 403, 404, 409)},
    )
    @action(detail=True, methods=["get", "post", "delete"])
    def draft(self, request, pk=None):
        if request.method == "GET":
            template = template_get(user=request.user, pk=pk)
            if not (template.project_id and can_edit_templates(request.user, template.project)):
                raise NotFound("No draft of this template is visible to you.")
            return _draft_response(request, template.pk)
        template = _editable_template(request, pk)
        if request.method == "DELETE":
            services.template_draft_discard(template=template, actor=request.user)
            return Response(status=status.HTTP_204_NO_CONTENT)
        services.template_draft_start(template=template, actor=request.user)
        return _draft_response(request, template.pk)

    @extend_schema(
        summary="Add a step at the end of the draft",
        parameters=[TEMPLATE_ID],
        request=StepInputSerializer,
        responses={201: DraftSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"], url_path="draft/steps")
    def draft_steps(self, request, pk=None):
        template = _editable_template(request, pk)
        data = body_valid(StepInputSerializer, request)
        draft = current_draft(template)
        if draft is None:
            raise NotFound("This template has no draft; start one first.")
        services.template_step_add(version=draft, actor=request.user, **data)
        return _draft_response(request, template.pk, code=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Publish the draft as the next version",
        description="New releases copy it from now on; releases under way keep theirs. Refused "
        "while the draft has no step, or a step has no item.",
        parameters=[TEMPLATE_ID],
        request=PublishSerializer,
        responses={200: TemplateVersionContentSerializer, **error_responses(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        template = _editable_template(request, pk)
        data = body_valid(PublishSerializer, request)
        version = services.template_publish(
            template=template, actor=request.user, change_note=data["change_note"]
        )
        # Not a model field: TemplateVersionContentSerializer reads its steps from it.
        cast(Any, version).content = version_content(version)
        return Response(TemplateVersionContentSerializer(version).data)


def _step(request, pk) -> StepTemplate:
    require_person(request.user, WHAT)
    step = template_step_get(pk=pk)
    _authorize(request, template_get(user=request.user, pk=step.version.template_id))
    return step


def _item(request, pk) -> ItemTemplate:
    require_person(request.user, WHAT)
    item = template_item_get(pk=pk)
    _authorize(request, template_get(user=request.user, pk=item.step.version.template_id))
    return item


STEP_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The step's id.")
ITEM_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The item's id.")


class TemplateStepViewSet(viewsets.GenericViewSet):
    """A step of a template's draft: change, move, delete, add an item."""

    serializer_class = DraftSerializer
    lookup_value_regex = r"\d+"
    filter_backends: list = []

    def get_queryset(self):
        return StepTemplate.objects.none()

    @extend_schema(
        summary="Change a draft's step",
        parameters=[STEP_ID],
        request=StepInputSerializer,
        responses={200: DraftSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def partial_update(self, request, pk=None):
        step = _step(request, pk)
        data = body_valid(StepInputSerializer, request)
        services.template_step_update(step=step, actor=request.user, **data)
        return _draft_response(request, step.version.template_id)

    @extend_schema(
        summary="Delete a draft's step with its items",
        parameters=[STEP_ID],
        request=None,
        responses={200: DraftSerializer, **error_responses(401, 403, 404, 409)},
    )
    def destroy(self, request, pk=None):
        step = _step(request, pk)
        services.template_step_delete(step=step, actor=request.user)
        return _draft_response(request, step.version.template_id)

    @extend_schema(
        summary="Move a draft's step one place up or down",
        parameters=[STEP_ID],
        request=MoveSerializer,
        responses={200: DraftSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        step = _step(request, pk)
        data = body_valid(MoveSerializer, request)
        services.template_step_move(step=step, actor=request.user, direction=data["direction"])
        return _draft_response(request, step.version.template_id)

    @extend_schema(
        summary="Add an item at the end of a draft's step",
        parameters=[STEP_ID],
        request=ItemInputSerializer,
        responses={201: DraftSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def items(self, request, pk=None):
        step = _step(request, pk)
        data = body_valid(ItemInputSerializer, request)
        services.template_item_add(step=step, actor=request.user, **data)
        return _draft_response(request, step.version.template_id, code=status.HTTP_201_CREATED)


class TemplateItemViewSet(viewsets.GenericViewSet):
    """An item of a template's draft: change, move, delete."""

    serializer_class = DraftSerializer
    lookup_value_regex = r"\d+"
    filter_backends: list = []

    def get_queryset(self):
        return ItemTemplate.objects.none()

    @extend_schema(
        summary="Change a draft's item",
        parameters=[ITEM_ID],
        request=ItemInputSerializer,
        responses={200: DraftSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def partial_update(self, request, pk=None):
        item = _item(request, pk)
        data = body_valid(ItemInputSerializer, request)
        services.template_item_update(item=item, actor=request.user, **data)
        return _draft_response(request, item.step.version.template_id)

    @extend_schema(
        summary="Delete a draft's item",
        parameters=[ITEM_ID],
        request=None,
        responses={200: DraftSerializer, **error_responses(401, 403, 404, 409)},
    )
    def destroy(self, request, pk=None):
        item = _item(request, pk)
        template_id = item.step.version.template_id
        services.template_item_delete(item=item, actor=request.user)
        return _draft_response(request, template_id)

    @extend_schema(
        summary="Move a draft's item one place up or down",
        parameters=[ITEM_ID],
        request=MoveSerializer,
        responses={200: DraftSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        item = _item(request, pk)
        data = body_valid(MoveSerializer, request)
        services.template_item_move(item=item, actor=request.user, direction=data["direction"])
        return _draft_response(request, item.step.version.template_id)
