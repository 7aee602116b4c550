"""Incidents over HTTP: open (alerting tools too), update, resolve; post-mortems; closing.

Order of checks (docs/api.md): token scope, visibility (404), right (403), body (400).
Tokens read with ``read`` or ``deployments``; they write incidents with ``deployments``.
Post-mortems, ticket confirmations and closing are for people.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.input import body_slug, body_valid, require_person
from core.api.schema import error_responses
from core.exceptions import NotFound, ValidationFailed
from incidents import selectors, services
from incidents.api import serializers as s
from incidents.models import ActionItem, EscapedDefect, Incident, PostMortem, TicketConfirmation
from incidents.permissions import require_close, require_confirm, require_respond
from projects.api.permissions import require_token_scopes, require_writing_role_somewhere
from projects.choices import TokenScope
from projects.models import Project
from releases.models import Deployment, Release

READ_SCOPES = (TokenScope.READ, TokenScope.DEPLOYMENTS)


def _users(project_id: int, names: list[str], what: str) -> list[User]:
    found = {u.username: u for u in User.objects.filter(username__in=names)}
    missing = [n for n in names if n not in found]
    if missing:
        raise ValidationFailed(
            f"{what}: no such person {', '.join(missing)}.", details={"unknown": missing}
        )
    return [found[n] for n in names]


@extend_schema_view(
    list=extend_schema(
        summary="Incidents I may see",
        parameters=[
            OpenApiParameter("project", str, description="A project's slug."),
            OpenApiParameter("state", str, description="A state, or `open` for all but resolved."),
            OpenApiParameter("severity", int, description="1–4."),
            OpenApiParameter("release", int, description="The suspected release's id."),
        ],
    ),
    retrieve=extend_schema(summary="One incident, with its updates"),
)
class IncidentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    token_read_scopes = READ_SCOPES
    queryset = Incident.objects.none()

    def get_queryset(self) -> QuerySet[Incident]:
        filters = {
            k: self.request.query_params.get(k) for k in ("project", "state", "severity", "release")
        }
        return selectors.incident_list(user=self.request.user, filters=filters).prefetch_related(
            "details__responders"
        )

    def get_serializer_class(self) -> Any:
        return s.IncidentDetailSerializer if self.action == "retrieve" else s.IncidentSerializer

    def get_object(self) -> Incident:
        pk = self.kwargs["pk"]
        if not str(pk).isdigit():
            raise NotFound("No such incident.")
        return selectors.incident_get(user=self.request.user, pk=int(pk))

    def _for_write(self, doing: str) -> Incident:
        require_token_scopes(self.request.user, TokenScope.DEPLOYMENTS)
        incident = self.get_object()
        require_respond(self.request.user, incident.project_id, doing)
        return incident

    def _answer(self, incident: Incident, code: int = status.HTTP_200_OK) -> Response:
        incident = selectors.incident_get(user=self.request.user, pk=incident.pk)
        return Response(s.IncidentDetailSerializer(incident).data, status=code)

    @extend_schema(
        summary="Open an incident (people, or alerting tools with the deployments scope)",
        request=s.IncidentOpenSerializer,
        responses={201: s.IncidentDetailSerializer, **error_responses(400, 403, 404)},
    )
    def create(self, request: Request) -> Response:
        user = request.user
        require_token_scopes(user, TokenScope.DEPLOYMENTS)
        slug = body_slug(request, "project")
        if slug is None:
            require_writing_role_somewhere(user)
        project = (
            Project.objects.filter(slug=slug, pk__in=selectors.visible_project_ids(user)).first()
            if slug
            else None
        )
        if slug and project is None:
            raise NotFound("No such project.")
        if project is not None:
            require_respond(user, project, "open incidents in this project")
        data = body_valid(s.IncidentOpenSerializer, request)
        assert project is not None  # the serializer requires the slug
        environment = None
        if data.get("environment"):
            environment = project.environments.filter(name=data["environment"]).first()
            if environment is None:
                raise ValidationFailed(
                    f"{project.name} has no environment '{data['environment']}'.",
                    details={"environment": ["No such environment in this project."]},
                )
        cause = None
        if data.get("cause_deployment"):
            cause = (
                Deployment.objects.filter(pk=data["cause_deployment"])
                .select_related("release", "environment")
                .first()
            )
            if cause is None:
                raise ValidationFailed(
                    "There is no deployment with that id.",
                    details={"cause_deployment": ["No such deployment."]},
                )
        commander = (
            _users(project.pk, [data["commander"]], "Commander")[0]
            if data.get("commander")
            else None
        )
        incident = services.incident_open(
            actor=user,
            project=project,
            title=data["title"],
            severity=data["severity"],
            started_at=data["started_at"],
            detected_at=data.get("detected_at"),
            impact=data.get("impact", ""),
            environment=environment,
            cause_deployment=cause,
            commander=commander,
            responders=_users(project.pk, data.get("responders") or [], "Responders"),
        )
        return self._answer(incident, status.HTTP_201_CREATED)

    @extend_schema(
        summary="The timeline: automatic entries and people's, in order",
        responses={200: s.TimelineItemSerializer(many=True), **error_responses(404)},
    )
    @action(detail=True, methods=["get"])
    def timeline(self, request: Request, pk: str) -> Response:
        incident = self.get_object()
        items = selectors.incident_timeline(incident)
        return Response(s.TimelineItemSerializer(items, many=True).data)

    @extend_schema(
        summary="Move to investigating, identified, monitoring (or resolved)",
        request=s.IncidentStateInputSerializer,
        responses={200: s.IncidentDetailSerializer, **error_responses(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def state(self, request: Request, pk: str) -> Response:
        incident = self._for_write("change this incident")
        data = body_valid(s.IncidentStateInputSerializer, request)
        incident = services.incident_transition(
            actor=request.user, incident=incident, to_state=data["state"], reason=data["reason"]
        )
        return self._answer(incident)

    @extend_schema(
        summary="Resolve the incident",
        request=s.IncidentResolveInputSerializer,
        responses={200: s.IncidentDetailSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str) -> Response:
        incident = self._for_write("resolve this incident")
        data = body_valid(s.IncidentResolveInputSerializer, request)
        incident = services.incident_resolve(
            actor=request.user,
            incident=incident,
            resolved_at=data.get("resolved_at"),
            summary=data["summary"],
        )
        return self._answer(incident)

    @extend_schema(
        summary="Post a status update (from the project's template; announced)",
        request=s.StatusUpdateInputSerializer,
        responses={201: s.StatusUpdateSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def updates(self, request: Request, pk: str) -> Response:
        incident = self._for_write("post updates on this incident")
        data = body_valid(s.StatusUpdateInputSerializer, request)
        update = services.status_update_post(actor=request.user, incident=incident, **data)
        return Response(s.StatusUpdateSerializer(update).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Add an entry to the timeline",
        request=s.TimelineEntryInputSerializer,
        responses={201: s.TimelineItemSerializer(many=True), **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def entries(self, request: Request, pk: str) -> Response:
        incident = self._for_write("add to this incident's timeline")
        data = body_valid(s.TimelineEntryInputSerializer, request)
        services.timeline_entry_add(
            actor=request.user, incident=incident, text=data["text"], at=data.get("at")
        )
        items = selectors.incident_timeline(incident)
        return Response(s.TimelineItemSerializer(items, many=True).data, status=201)

    @extend_schema(
        summary="Record the mitigation decision: roll back or fix forward",
        request=s.MitigationInputSerializer,
        responses={200: s.IncidentDetailSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def mitigation(self, request: Request, pk: str) -> Response:
        incident = self._for_write("decide how to mitigate this incident")
        data = body_valid(s.MitigationInputSerializer, request)
        services.mitigation_decide(actor=request.user, incident=incident, **data)
        return self._answer(incident)

    @extend_schema(
        summary="Start a hotfix release from the incident (linked as rework)",
        request=s.HotfixInputSerializer,
        responses={201: s.HotfixResultSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def hotfix(self, request: Request, pk: str) -> Response:
        incident = self._for_write("start a hotfix for this incident")
        data = body_valid(s.HotfixInputSerializer, request)
        release = services.hotfix_start(actor=request.user, incident=incident, **data)
        return Response({"release": release.pk, "version": release.version}, status=201)

    @extend_schema(
        summary="Name the commander and the responders (project members)",
        request=s.IncidentPeopleInputSerializer,
        responses={200: s.IncidentDetailSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def people(self, request: Request, pk: str) -> Response:
        incident = self._for_write("change who responds to this incident")
        data = body_valid(s.IncidentPeopleInputSerializer, request)
        commander = (
            _users(incident.project_id, [data["commander"]], "Commander")[0]
            if data.get("commander")
            else None
        )
        responders = (
            _users(incident.project_id, data["responders"], "Responders")
            if "responders" in data
            else None
        )
        services.incident_people_set(
            actor=request.user, incident=incident, commander=commander, responders=responders
        )
        return self._answer(incident)


@extend_schema_view(
    list=extend_schema(summary="Post-mortems and retrospectives I may see"),
    retrieve=extend_schema(summary="One post-mortem with its action items"),
)
class PostMortemViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    token_read_scopes = READ_SCOPES
    serializer_class = s.PostMortemSerializer
    queryset = PostMortem.objects.none()

    def get_queryset(self) -> QuerySet[PostMortem]:
        return selectors.postmortem_list(user=self.request.user).prefetch_related("items__owner")

    def get_object(self) -> PostMortem:
        pk = self.kwargs["pk"]
        if not str(pk).isdigit():
            raise NotFound("No such post-mortem.")
        return selectors.postmortem_get(user=self.request.user, pk=int(pk))

    def _for_write(self, doing: str) -> PostMortem:
        require_person(self.request.user, "post-mortems")
        postmortem = self.get_object()
        require_respond(self.request.user, postmortem.project_id, doing)
        return postmortem

    def _answer(self, postmortem: PostMortem, code: int = 200) -> Response:
        postmortem = selectors.postmortem_get(user=self.request.user, pk=postmortem.pk)
        return Response(s.PostMortemSerializer(postmortem).data, status=code)

    @extend_schema(
        summary="Write sections of the blameless template",
        request=s.PostMortemUpdateSerializer,
        responses={200: s.PostMortemSerializer, **error_responses(400, 403, 404)},
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        postmortem = self._for_write("write post-mortems in this project")
        data = body_valid(s.PostMortemUpdateSerializer, request)
        postmortem = services.postmortem_update(actor=request.user, postmortem=postmortem, **data)
        return self._answer(postmortem)

    @extend_schema(
        summary="Draft → In review → Reviewed → Closed (closing refused while items are open)",
        request=s.PostMortemStateSerializer,
        responses={200: s.PostMortemSerializer, **error_responses(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def state(self, request: Request, pk: str) -> Response:
        postmortem = self._for_write("review post-mortems in this project")
        data = body_valid(s.PostMortemStateSerializer, request)
        postmortem = services.postmortem_transition(
            actor=request.user, postmortem=postmortem, to_state=data["state"]
        )
        return self._answer(postmortem)

    @extend_schema(
        summary="Add an action item",
        request=s.ActionItemInputSerializer,
        responses={201: s.ActionItemSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def items(self, request: Request, pk: str) -> Response:
        postmortem = self._for_write("add action items in this project")
        data = body_valid(s.ActionItemInputSerializer, request)
        owner = _users(postmortem.project_id, [data["owner"]], "Owner")[0]
        item = services.action_item_add(
            actor=request.user,
            postmortem=postmortem,
            title=data["title"],
            owner=owner,
            due_on=data["due_on"],
            ticket_key=data["ticket_key"],
        )
        return Response(s.ActionItemSerializer(item).data, status=201)

    @extend_schema(
        summary="Mark an action item done (or open again)",
        request=s.ActionItemDoneSerializer,
        responses={200: s.ActionItemSerializer, **error_responses(400, 403, 404)},
        parameters=[OpenApiParameter("item_id", int, OpenApiParameter.PATH)],
    )
    @action(detail=True, methods=["post"], url_path=r"items/(?P<item_id>\d+)/done")
    def item_done(self, request: Request, pk: str, item_id: str) -> Response:
        postmortem = self._for_write("track action items in this project")
        item = ActionItem.objects.filter(pk=int(item_id), postmortem=postmortem).first()
        if item is None:
            raise NotFound("No such action item.")
        data = body_valid(s.ActionItemDoneSerializer, request)
        item = services.action_item_set_done(actor=request.user, item=item, done=data["done"])
        return Response(s.ActionItemSerializer(item).data)


@extend_schema_view(
    list=extend_schema(
        summary="Defects that escaped to production",
        parameters=[OpenApiParameter("release", int, description="The release that shipped it.")],
    ),
)
class EscapedDefectViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    token_read_scopes = READ_SCOPES
    serializer_class = s.EscapedDefectSerializer
    queryset = EscapedDefect.objects.none()

    def get_queryset(self) -> QuerySet[EscapedDefect]:
        qs = EscapedDefect.objects.filter(
            release__project_id__in=selectors.visible_project_ids(self.request.user)
        ).select_related("release")
        release = self.request.query_params.get("release")
        if release and release.isdigit():
            qs = qs.filter(release_id=int(release))
        return qs


class ClosingViewSet(viewsets.ViewSet):
    """A release's closing: QA's confirmations on production, blockers, the closure."""

    token_read_scopes = READ_SCOPES

    def _release(self, pk: str) -> Release:
        if not str(pk).isdigit():
            raise NotFound("No such release.")
        release = (
            Release.objects.filter(
                pk=int(pk), project_id__in=selectors.visible_project_ids(self.request.user)
            )
            .select_related("project")
            .first()
        )
        if release is None:
            raise NotFound("No such release.")
        return release

    def _state(self, release: Release) -> dict[str, Any]:
        from incidents.models import ReleaseClosure

        checks = {c.ticket_id: c for c in TicketConfirmation.objects.filter(release=release)}
        closure = ReleaseClosure.objects.filter(release=release).first()
        return {
            "release": release.pk,
            "closed": closure is not None,
            "closed_at": closure.closed_at if closure else None,
            "summary": closure.summary if closure else "",
            "tickets": [
                {
                    "key": t.key,
                    "title": t.title,
                    "result": checks[t.pk].result if t.pk in checks else None,
                    "note": checks[t.pk].note if t.pk in checks else "",
                }
                for t in release.tickets.all()
            ],
            "blockers": [
                {"code": b.code, "message": b.message}
                for b in (services.release_close_blockers(release=release) if not closure else [])
            ],
        }

    @extend_schema(
        summary="The release's closing state",
        responses={200: s.ReleaseClosingSerializer, **error_responses(404)},
    )
    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(s.ReleaseClosingSerializer(self._state(self._release(pk))).data)

    @extend_schema(
        summary="Close the release with a summary; sends the results to the stakeholders",
        request=s.ReleaseCloseInputSerializer,
        responses={200: s.ReleaseClosingSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str) -> Response:
        require_person(request.user, "the closing of a release")
        release = self._release(pk)
        require_close(request.user, release)
        data = body_valid(s.ReleaseCloseInputSerializer, request)
        services.release_close(actor=request.user, release=release, summary=data["summary"])
        return Response(s.ReleaseClosingSerializer(self._state(release)).data)

    @extend_schema(
        summary="QA: confirm a ticket on production, or reopen it as an escaped defect",
        request=s.TicketCheckInputSerializer,
        responses={200: s.ReleaseClosingSerializer, **error_responses(400, 403, 404, 409)},
        parameters=[OpenApiParameter("key", str, OpenApiParameter.PATH)],
    )
    @action(detail=True, methods=["post"], url_path=r"tickets/(?P<key>[^/]+)")
    def ticket(self, request: Request, pk: str, key: str) -> Response:
        require_person(request.user, "QA's confirmations")
        release = self._release(pk)
        require_confirm(request.user, release.project_id, "confirm tickets on production")
        ticket = release.tickets.filter(key=key).first()
        if ticket is None:
            raise NotFound(f"Release {release.version} has no ticket {key}.")
        data = body_valid(s.TicketCheckInputSerializer, request)
        services.ticket_confirm(
            actor=request.user,
            ticket=ticket,
            confirmed=data["result"] == "confirmed",
            note=data["note"],
            severity=data["severity"],
        )
        return Response(s.ReleaseClosingSerializer(self._state(release)).data)
