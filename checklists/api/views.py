"""Checklists over HTTP: read a release's checklist, tick and untick, templates.

Tokens may read (with the read scope); every change needs a person, because a
tick says "I checked this". Missing and invisible objects are both 404. Each
change asks the caller's right (the predicates the services ask) before it
reads the body: someone who may not do it gets 403 whatever they send.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from checklists import services
from checklists.api.serializers import (
    AdhocItemSerializer,
    ChecklistSerializer,
    ItemSerializer,
    NotApplicableSerializer,
    StepOutputSerializer,
    TemplateDetailSerializer,
    TemplateSerializer,
    TemplateVersionContentSerializer,
    TickSerializer,
    UntickSerializer,
)
from checklists.api.template_config import TemplateEditMixin
from checklists.models import ChecklistTemplate
from checklists.permissions import (
    can_edit_templates,
    can_manage_checklist,
    can_record_step_output,
    can_tick_item,
    can_untick_item,
    manager_refusal,
    people_only_refusal,
    step_output_refusal,
    tick_refusal,
    untick_refusal,
)
from checklists.selectors import (
    checklist_board,
    item_get,
    latest_published,
    step_get,
    template_get,
    templates_queryset_for_api,
    version_get,
)
from checklists.template_content import version_content
from core.api.input import body_valid
from core.api.schema import error_responses
from core.exceptions import DomainError, NotFound
from projects.principals import is_token
from releases.selectors import release_get


def _valid(serializer_class, request) -> dict:
    return body_valid(serializer_class, request)


def _authorize(user, *, allowed: bool, doing: str, refusal: Callable[[], DomainError]) -> None:
    """The services' refusal, asked before the body is read (tokens first: they never change checklists)."""
    if is_token(user):
        raise people_only_refusal(doing)
    if not allowed:
        raise refusal()


class ReleaseChecklistView(APIView):
    """A release's checklist: steps, items, progress and what it gates."""

    @extend_schema(
        summary="A release's checklist",
        description="Steps in order with their items, who ticked what and when, evidence, "
        "and for each environment tier the checklist gates, whether it is open and which items are missing.",
        responses={200: ChecklistSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request, release_id: int):
        release = release_get(user=request.user, pk=release_id)
        board = checklist_board(release=release, user=request.user)
        if board is None:
            raise NotFound("This release has no checklist.")
        return Response(ChecklistSerializer(board).data)


ITEM_ERRORS = error_responses(400, 401, 403, 404, 409)


@extend_schema_view(
    retrieve=extend_schema(
        summary="One checklist item",
        responses={200: ItemSerializer, **error_responses(401, 403, 404)},
    ),
)
class ChecklistItemViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ItemSerializer
    lookup_value_regex = r"\d+"

    def get_object(self):
        return item_get(user=self.request.user, pk=self.kwargs["pk"])

    @extend_schema(
        summary="Tick an item",
        description="Records who and when, an optional note and evidence (required by some items: an "
        "http(s) link or a short reference). People only: API tokens get 403. Ticking an item someone "
        "already ticked changes nothing and returns it as they left it.",
        request=TickSerializer,
        responses={200: ItemSerializer, **ITEM_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def tick(self, request, pk=None):
        item = self.get_object()
        release = item.checklist.release
        _authorize(
            request.user,
            allowed=can_tick_item(request.user, item, release),
            doing="tick checklist items",
            refusal=lambda: tick_refusal(item),
        )
        data = _valid(TickSerializer, request)
        item = services.item_tick(
            item=item, actor=request.user, note=data["note"], evidence=data["evidence"]
        )
        return Response(ItemSerializer(item).data)

    @extend_schema(
        summary="Reopen a ticked or not-applicable item",
        description="Refused with 409 `gate_already_passed` once the release entered the environment "
        "the item's step gates.",
        request=UntickSerializer,
        responses={200: ItemSerializer, **ITEM_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def untick(self, request, pk=None):
        item = self.get_object()
        _authorize(
            request.user,
            allowed=can_untick_item(request.user, item, item.checklist.release),
            doing="untick checklist items",
            refusal=lambda: untick_refusal(item),
        )
        data = _valid(UntickSerializer, request)
        item = services.item_untick(item=item, actor=request.user, reason=data["reason"])
        return Response(ItemSerializer(item).data)

    @extend_schema(
        summary="Mark an item not applicable to this release",
        request=NotApplicableSerializer,
        responses={200: ItemSerializer, **ITEM_ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="not-applicable")
    def not_applicable(self, request, pk=None):
        item = self.get_object()
        _authorize(
            request.user,
            allowed=can_manage_checklist(request.user, item.checklist.release),
            doing="mark checklist items not applicable",
            refusal=lambda: manager_refusal("mark items not applicable"),
        )
        data = _valid(NotApplicableSerializer, request)
        item = services.item_mark_not_applicable(
            item=item, actor=request.user, reason=data["reason"]
        )
        return Response(ItemSerializer(item).data)


class ChecklistStepViewSet(viewsets.GenericViewSet):
    lookup_value_regex = r"\d+"
    serializer_class = ItemSerializer

    def get_object(self):
        return step_get(user=self.request.user, pk=self.kwargs["pk"])

    @extend_schema(
        summary="Add an ad-hoc item to one step of a release's checklist",
        request=AdhocItemSerializer,
        responses={201: ItemSerializer, **ITEM_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def items(self, request, pk=None):
        step = self.get_object()
        services.item_add_authorize(step=step, actor=request.user)
        data = _valid(AdhocItemSerializer, request)
        item = services.item_add(step=step, actor=request.user, **data)
        return Response(ItemSerializer(item).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Record what a step actually produced",
        request=StepOutputSerializer,
        responses={200: StepOutputSerializer, **ITEM_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def output(self, request, pk=None):
        step = self.get_object()
        roles = {item.role for item in step.items.all()}
        _authorize(
            request.user,
            allowed=can_record_step_output(request.user, roles, step.checklist.release),
            doing="record a step's output",
            refusal=lambda: step_output_refusal(roles),
        )
        data = _valid(StepOutputSerializer, request)
        step = services.step_record_output(
            step=step, actor=request.user, text=data["actual_output"]
        )
        return Response({"actual_output": step.actual_output})


PROJECT_PARAM = OpenApiParameter(
    "project",
    str,
    OpenApiParameter.QUERY,
    description="Only this project's templates (by slug) and the shipped ones.",
)


@extend_schema_view(
    list=extend_schema(
        summary="Checklist templates: your projects' and the shipped ones",
        parameters=[PROJECT_PARAM],
        responses={200: TemplateSerializer(many=True), **error_responses(401, 403)},
    ),
    retrieve=extend_schema(
        summary="One template with its newest published content",
        responses={200: TemplateDetailSerializer, **error_responses(401, 403, 404)},
    ),
)
class ChecklistTemplateViewSet(
    TemplateEditMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = TemplateSerializer
    lookup_value_regex = r"\d+"
    filterset_class = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request, no rows
            return ChecklistTemplate.objects.none()
        qs = templates_queryset_for_api(user=self.request.user)
        project = self.request.query_params.get("project")
        if project:
            from django.db.models import Q

            qs = qs.filter(Q(project__slug=project) | Q(project__isnull=True))
        return qs

    def _context(self, template) -> dict:
        show = template.project_id is not None and can_edit_templates(
            self.request.user, template.project
        )
        return {"request": self.request, "show_drafts": show}

    def retrieve(self, request, pk=None):
        template = template_get(user=request.user, pk=pk)
        # latest and content are not model fields: the serializers read them.
        latest = latest_published(template)
        cast(Any, template).latest = latest
        if latest is not None:
            cast(Any, latest).content = version_content(latest)
        return Response(TemplateDetailSerializer(template, context=self._context(template)).data)

    @extend_schema(
        summary="One version of a template with its steps and items",
        responses={200: TemplateVersionContentSerializer, **error_responses(401, 403, 404)},
        parameters=[OpenApiParameter("number", int, OpenApiParameter.PATH)],
    )
    @action(detail=True, methods=["get"], url_path=r"versions/(?P<number>\d+)")
    def version(self, request, pk=None, number=None):
        template = template_get(user=request.user, pk=pk)
        version = version_get(template=template, number=number)
        if version.is_draft and not self._context(template)["show_drafts"]:
            raise NotFound("No such version of this template.")
        # Not a model field: TemplateVersionContentSerializer reads its steps from it.
        cast(Any, version).content = version_content(version)
        return Response(TemplateVersionContentSerializer(version).data)
