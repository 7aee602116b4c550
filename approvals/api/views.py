"""Approvals over HTTP: read the matrix, approve, reject, withdraw, request, vote, decide.

Only people decide: an API token that tries gets 403 ``people_only`` and its
attempt is written to the audit trail. Strangers get 404, as for a missing release.
Each action asks the service's ``*_authorize`` before it reads the body, so an
auditor (or a token) is refused whatever it sends.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from approvals import services
from approvals.api.serializers import (
    ApprovalSerializer,
    DecisionInputSerializer,
    DecisionResultSerializer,
    EmergencyInputSerializer,
    MatrixSerializer,
    MeetingCancelInputSerializer,
    MeetingDecisionInputSerializer,
    MeetingRescheduleInputSerializer,
    MeetingScheduleInputSerializer,
    MeetingSerializer,
    RequestInputSerializer,
    VoteInputSerializer,
    WithdrawInputSerializer,
    matrix_data,
)
from approvals.choices import ApprovalKind, Decision
from approvals.exceptions import PeopleOnly
from approvals.models import GoNoGoMeeting, MeetingAttendee, MeetingVote
from approvals.selectors import (
    approval_get,
    approval_list,
    approval_matrix,
    meeting_for_vote,
    release_for_decision,
)
from core.api.input import body_field, body_valid, require_person
from core.api.schema import error_responses
from core.exceptions import NotFound, ValidationFailed
from projects.api.permissions import require_writing_role_somewhere
from projects.principals import is_token
from projects.selectors import project_list
from releases.selectors import release_get


def _valid(serializer_class, request) -> dict:
    return body_valid(serializer_class, request)


def _decision_answer(approval) -> Response:
    """201 with the decision recorded now; 200 with the first one when it repeats it."""
    created = not getattr(approval, "repeat", False)
    return Response(
        DecisionResultSerializer(approval).data,
        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
    )


def _environment(release, name: str):
    if not name:
        return None
    environment = release.project.environments.filter(name=name).first()
    if environment is None:
        raise NotFound(f"No environment '{name[:40]}' in this project.")
    return environment


RELEASE_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The release's id.")


@extend_schema_view(
    list=extend_schema(
        summary="Approval records visible to the caller, newest first",
        parameters=[
            OpenApiParameter("release", int, description="Only this release's records."),
            OpenApiParameter("kind", str),
            OpenApiParameter("state", str),
        ],
        responses={200: ApprovalSerializer(many=True), **error_responses(401, 403)},
    ),
    retrieve=extend_schema(
        summary="One approval record",
        responses={200: ApprovalSerializer, **error_responses(401, 403, 404)},
    ),
)
class ApprovalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ApprovalSerializer
    lookup_value_regex = r"\d+"
    filter_backends: list = []

    def get_queryset(self):
        params = self.request.query_params
        filters: dict[str, Any] = {k: params.get(k, "")[:40] for k in ("kind", "state")}
        release = params.get("release", "")
        if release:
            if not release.isdigit():
                raise NotFound("No such release.")
            filters["release"] = int(release)
        return approval_list(user=self.request.user, filters=filters)

    def get_object(self):
        return approval_get(user=self.request.user, pk=self.kwargs["pk"])

    @extend_schema(
        summary="Withdraw your own decision",
        request=WithdrawInputSerializer,
        responses={200: ApprovalSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        approval = self.get_object()
        services.withdraw_authorize(approval=approval, actor=request.user)
        data = _valid(WithdrawInputSerializer, request)
        approval = services.approval_withdraw(
            approval=approval, actor=request.user, reason=data["reason"]
        )
        return Response(ApprovalSerializer(approval).data)


@extend_schema_view(
    retrieve=extend_schema(
        summary="The approval matrix of a release",
        description="Per environment: what its policy asks for, what is given, what is missing (with the gate's "
        "sentence) and who may still decide; the emergency path; every decision ever given.",
        responses={200: MatrixSerializer, **error_responses(401, 403, 404)},
    ),
)
class ReleaseApprovalsViewSet(viewsets.GenericViewSet):
    """Decisions on one release, addressed by the release's id."""

    serializer_class = MatrixSerializer
    lookup_value_regex = r"\d+"
    filter_backends: list = []
    pagination_class = None

    def retrieve(self, request, pk=None):
        release = release_get(user=request.user, pk=pk)
        return Response(matrix_data(approval_matrix(release=release)))

    def _decide(self, request, pk, decision: str):
        # Strangers reach the service, which records their attempt and answers 404.
        release = release_for_decision(pk=pk)
        services.decision_authorize(release=release, actor=request.user)
        data = _valid(DecisionInputSerializer, request)
        approval = services.approval_decide(
            release=release,
            kind=data["kind"],
            decision=decision,
            actor=request.user,
            environment=_environment(release, data["environment"]),
            comment=data["comment"],
            role=data["role"] or None,
        )
        return _decision_answer(approval)

    @extend_schema(
        summary="Approve (or sign off) as a person",
        description="Scope approvals need no environment; QA sign-offs name the environment QA tested in; "
        "deployment approvals name the target. 201 when the decision is recorded; giving the same "
        "decision again answers 200 with the first record unchanged and `repeat: true`. "
        "API tokens get 403 `people_only`.",
        request=DecisionInputSerializer,
        parameters=[RELEASE_ID],
        responses={
            201: DecisionResultSerializer,
            200: DecisionResultSerializer,
            **error_responses(400, 401, 403, 404, 409),
        },
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._decide(request, pk, Decision.APPROVE)

    @extend_schema(
        summary="Reject, with a comment",
        request=DecisionInputSerializer,
        parameters=[RELEASE_ID],
        description="A rejection blocks its gate until withdrawn or until a new request sets it aside.",
        responses={
            201: DecisionResultSerializer,
            200: DecisionResultSerializer,
            **error_responses(400, 401, 403, 404, 409),
        },
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._decide(request, pk, Decision.REJECT)

    @extend_schema(
        summary="Ask the eligible people for a decision",
        request=RequestInputSerializer,
        parameters=[RELEASE_ID],
        responses={201: MatrixSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"], url_path="request")
    def request_decision(self, request, pk=None):
        release = release_get(user=request.user, pk=pk)
        services.request_authorize(release=release, actor=request.user)
        data = _valid(RequestInputSerializer, request)
        services.approval_request(
            release=release,
            kind=data["kind"],
            actor=request.user,
            environment=_environment(release, data["environment"]),
            note=data["note"],
        )
        return Response(
            matrix_data(approval_matrix(release=release)), status=status.HTTP_201_CREATED
        )

    @extend_schema(
        summary="Give an emergency approval to a hotfix (emergency approvers only)",
        request=EmergencyInputSerializer,
        parameters=[RELEASE_ID],
        responses={
            201: DecisionResultSerializer,
            200: DecisionResultSerializer,
            **error_responses(400, 401, 403, 404, 409),
        },
    )
    @action(detail=True, methods=["post"])
    def emergency(self, request, pk=None):
        release = release_for_decision(pk=pk)
        services.decision_authorize(
            release=release, actor=request.user, kind=ApprovalKind.EMERGENCY
        )
        data = _valid(EmergencyInputSerializer, request)
        approval = services.emergency_approve(
            release=release,
            environment=_environment(release, data["environment"]),
            actor=request.user,
            justification=data["justification"],
        )
        return _decision_answer(approval)


@extend_schema_view(
    list=extend_schema(
        summary="Go/no-go meetings visible to the caller",
        parameters=[OpenApiParameter("release", int, description="Only this release's meetings.")],
        responses={200: MeetingSerializer(many=True), **error_responses(401, 403)},
    ),
    retrieve=extend_schema(
        summary="One go/no-go meeting with attendees, votes and criteria",
        responses={200: MeetingSerializer, **error_responses(401, 403, 404)},
    ),
)
class MeetingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = MeetingSerializer
    lookup_value_regex = r"\d+"
    filter_backends: list = []

    def get_queryset(self):
        from django.db.models import Prefetch

        qs = (
            GoNoGoMeeting.objects.filter(release__project__in=project_list(user=self.request.user))
            .select_related("environment", "decided_by")
            .prefetch_related(
                Prefetch("attendees", queryset=MeetingAttendee.objects.select_related("person")),
                Prefetch("votes", queryset=MeetingVote.objects.select_related("person")),
                "criteria",
            )
            .order_by("-scheduled_for", "-id")
        )
        release = self.request.query_params.get("release", "")
        if release:
            if not release.isdigit():
                raise NotFound("No such release.")
            qs = qs.filter(release_id=int(release))
        return qs

    def get_object(self):
        pk = self.kwargs["pk"]
        meeting = self.get_queryset().filter(pk=int(pk)).first() if str(pk).isdigit() else None
        if meeting is None:
            raise NotFound("No such meeting.")
        return meeting

    @extend_schema(
        summary="Vote go, no-go or abstain (attendees only)",
        request=VoteInputSerializer,
        responses={200: MeetingSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def vote(self, request, pk=None):
        meeting = meeting_for_vote(pk=pk)
        services.vote_authorize(meeting=meeting, actor=request.user)
        data = _valid(VoteInputSerializer, request)
        services.meeting_vote(
            meeting=meeting, vote=data["vote"], actor=request.user, comment=data["comment"]
        )
        return Response(MeetingSerializer(self.get_object()).data)

    @extend_schema(
        summary="Decide go or no-go (release managers)",
        request=MeetingDecisionInputSerializer,
        responses={200: MeetingSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        meeting = self.get_object()
        if is_token(request.user):
            raise PeopleOnly("Only a person decides go or no-go; API tokens never can.")
        services.meeting_authorize(meeting=meeting, actor=request.user, action="decide")
        data = _valid(MeetingDecisionInputSerializer, request)
        services.meeting_decide(
            meeting=meeting, decision=data["decision"], reason=data["reason"], actor=request.user
        )
        return Response(MeetingSerializer(self.get_object()).data)

    @extend_schema(
        summary="Schedule a go/no-go meeting (release managers)",
        description="The same service as the page: the agenda, the go criteria and the no-go "
        "triggers are filled in, the attendees are invited by notification. One scheduled "
        "meeting per release and environment (409 while another is scheduled). People only.",
        request=MeetingScheduleInputSerializer,
        responses={201: MeetingSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def create(self, request):
        require_person(request.user, "go/no-go meetings")
        named = body_field(request, "release")
        if isinstance(named, int) and not isinstance(named, bool) and 0 < named < 2**63:
            release = release_get(user=request.user, pk=named)
            services.meeting_schedule_authorize(release=release, actor=request.user)
        else:
            require_writing_role_somewhere(request.user)
            release = None
        data = _valid(MeetingScheduleInputSerializer, request)
        if release is None:
            release = release_get(user=request.user, pk=data["release"])
            services.meeting_schedule_authorize(release=release, actor=request.user)
        environment = _environment(release, data["environment"])
        attendees = None
        if "attendees" in data:
            attendees = _attendees(release, data["attendees"])
        meeting = services.meeting_schedule(
            release=release,
            environment=environment,
            scheduled_for=data["scheduled_for"],
            actor=request.user,
            attendees=attendees,
            security_sensitive=data["security_sensitive"],
        )
        meeting = self.get_queryset().get(pk=meeting.pk)
        return Response(MeetingSerializer(meeting).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Move a scheduled meeting to another time (release managers)",
        description="The attendees are told the new time (and the reason, when given).",
        request=MeetingRescheduleInputSerializer,
        responses={200: MeetingSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def reschedule(self, request, pk=None):
        require_person(request.user, "go/no-go meetings")
        meeting = self.get_object()
        services.meeting_authorize(meeting=meeting, actor=request.user, action="reschedule")
        data = _valid(MeetingRescheduleInputSerializer, request)
        services.meeting_reschedule(
            meeting=meeting,
            scheduled_for=data["scheduled_for"],
            actor=request.user,
            reason=data["reason"],
        )
        return Response(MeetingSerializer(self.get_object()).data)

    @extend_schema(
        summary="Cancel a scheduled meeting (release managers); a reason is required",
        request=MeetingCancelInputSerializer,
        responses={200: MeetingSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        require_person(request.user, "go/no-go meetings")
        meeting = self.get_object()
        services.meeting_authorize(meeting=meeting, actor=request.user, action="cancel")
        data = _valid(MeetingCancelInputSerializer, request)
        services.meeting_cancel(meeting=meeting, actor=request.user, reason=data["reason"])
        return Response(MeetingSerializer(self.get_object()).data)


def _attendees(release, rows: list[dict]) -> list[tuple]:
    """(person, seat) for each username; a name that is no member of the project is a 400."""
    from django.contrib.auth import get_user_model

    names = [row["person"] for row in rows]
    found = {
        user.get_username(): user
        for user in get_user_model()
        .objects.filter(username__in=names, memberships__project_id=release.project_id)
        .distinct()
    }
    missing = [name for name in names if name not in found]
    if missing:
        message = f"{missing[0][:60]} is not a member of this project."
        raise ValidationFailed(message, details={"attendees": message})
    return [(found[row["person"]], row["seat"]) for row in rows]
