"""Input and output shapes of the approvals API.

Inputs check form only (types, lengths, known choices); the services apply
every rule (who may decide, separation of duties, comments, state).
"""

from __future__ import annotations

from rest_framework import serializers

from approvals.choices import ApprovalKind, ApprovalState, Decision, MeetingDecision, Seat, Vote
from approvals.models import Approval, GoNoGoMeeting
from projects.choices import Role

# --- Output ----------------------------------------------------------------------------


class ApprovalSerializer(serializers.ModelSerializer):
    release = serializers.IntegerField(source="release_id", read_only=True)
    environment = serializers.SerializerMethodField()
    person = serializers.CharField(source="person.username", read_only=True)
    decision = serializers.ChoiceField(choices=Decision.choices, read_only=True)
    kind = serializers.ChoiceField(choices=ApprovalKind.choices, read_only=True)
    state = serializers.ChoiceField(choices=ApprovalState.choices, read_only=True)

    class Meta:
        model = Approval
        fields = [
            "id",
            "release",
            "kind",
            "environment",
            "person",
            "role",
            "decision",
            "comment",
            "state",
            "state_reason",
            "state_changed_at",
            "release_version",
            "artifact_version",
            "commit_sha",
            "created_at",
        ]
        read_only_fields = fields

    def get_environment(self, approval: Approval) -> str | None:
        return approval.environment.name if approval.environment else None


class DecisionResultSerializer(ApprovalSerializer):
    """A decision just given: 201 when it was recorded, 200 when it repeats one already given."""

    repeat = serializers.SerializerMethodField(
        help_text="true: you had already given this decision; the first record is returned "
        "unchanged and nothing was recorded (status 200). false: recorded now (status 201)."
    )
    message = serializers.SerializerMethodField(help_text="What happened, in a sentence.")

    class Meta(ApprovalSerializer.Meta):
        fields = [*ApprovalSerializer.Meta.fields, "repeat", "message"]
        read_only_fields = fields

    def get_repeat(self, approval: Approval) -> bool:
        return bool(getattr(approval, "repeat", False))

    def get_message(self, approval: Approval) -> str:
        verb = approval.get_decision_display().lower()
        if getattr(approval, "repeat", False):
            return (
                f"You had already {verb} this on {approval.created_at:%Y-%m-%d %H:%M} UTC; "
                "that decision stands and nothing changed."
            )
        return f"Recorded: you {verb} this."


class RejectionSerializer(serializers.Serializer):
    person = serializers.CharField()
    comment = serializers.CharField()


class NotCountedSerializer(serializers.Serializer):
    person = serializers.CharField()
    why = serializers.CharField()


class RequirementSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ApprovalKind.choices)
    gate = serializers.CharField(help_text="The promotion gate this requirement feeds.")
    title = serializers.CharField()
    about = serializers.CharField(
        allow_null=True, help_text="The environment the decision is about; null: the release."
    )
    needed = serializers.IntegerField()
    given = serializers.IntegerField()
    satisfied = serializers.BooleanField()
    reason = serializers.CharField(help_text="The gate's sentence.")
    approved_by = serializers.ListField(child=serializers.CharField())
    rejections = RejectionSerializer(many=True)
    not_counted = NotCountedSerializer(many=True)
    eligible = serializers.ListField(
        child=serializers.CharField(), help_text="Usernames who may still decide."
    )


class GoNoGoSerializer(serializers.Serializer):
    satisfied = serializers.BooleanField()
    reason = serializers.CharField()
    meeting = serializers.IntegerField(allow_null=True)


class PolicySerializer(serializers.Serializer):
    required_approvals = serializers.IntegerField()
    approver_roles = serializers.ListField(child=serializers.ChoiceField(choices=Role.choices))
    requires_qa_signoff = serializers.BooleanField()
    requires_scope_approval = serializers.BooleanField()
    requires_go_no_go = serializers.BooleanField()
    approval_valid_hours = serializers.IntegerField(allow_null=True)


class EnvironmentMatrixSerializer(serializers.Serializer):
    environment = serializers.CharField()
    ready = serializers.BooleanField(
        help_text="Every approval, sign-off and go/no-go this environment asks for is given."
    )
    policy = PolicySerializer()
    requirements = RequirementSerializer(many=True)
    go_no_go = GoNoGoSerializer(allow_null=True)
    emergency_waiver = serializers.CharField(allow_null=True)


class ReviewSerializer(serializers.Serializer):
    due_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)
    overdue = serializers.BooleanField()


class MatrixSerializer(serializers.Serializer):
    release = serializers.IntegerField()
    version = serializers.CharField()
    is_emergency = serializers.BooleanField()
    environments = EnvironmentMatrixSerializer(many=True)
    emergency = RequirementSerializer(allow_null=True)
    review = ReviewSerializer(allow_null=True)
    approvals = ApprovalSerializer(many=True, help_text="Every decision ever given, newest first.")


def _requirement(req) -> dict:
    return {
        "kind": req.kind,
        "gate": req.gate_code if req.kind != ApprovalKind.EMERGENCY else "order",
        "title": req.title if req.kind != ApprovalKind.EMERGENCY else "Emergency approval",
        "about": req.subject.name if req.subject is not None else None,
        "needed": req.needed,
        "given": req.given,
        "satisfied": req.satisfied,
        "reason": req.reason()
        if req.kind != ApprovalKind.EMERGENCY
        else ("Given." if req.counted else "Not given."),
        "approved_by": [a.person.username for a in req.counted],
        "rejections": [{"person": a.person.username, "comment": a.comment} for a in req.rejections],
        "not_counted": [{"person": a.person.username, "why": why} for a, why in req.not_counted],
        "eligible": [u.username for u in req.eligible],
    }


def matrix_data(matrix) -> dict:
    """The approval matrix as plain data for ``MatrixSerializer``."""
    environments = []
    for column in matrix.columns:
        p = column.policy
        environments.append(
            {
                "environment": column.environment.name,
                "ready": column.satisfied,
                "policy": {
                    "required_approvals": p.required_approvals,
                    "approver_roles": list(p.approver_roles or []),
                    "requires_qa_signoff": p.requires_qa_signoff,
                    "requires_scope_approval": p.requires_scope_approval,
                    "requires_go_no_go": p.requires_go_no_go,
                    "approval_valid_hours": p.approval_valid_hours,
                },
                "requirements": [_requirement(r) for r in column.requirements],
                "go_no_go": None
                if column.go_no_go is None
                else {
                    "satisfied": column.go_no_go.satisfied,
                    "reason": column.go_no_go.reason,
                    "meeting": column.go_no_go.meeting.pk if column.go_no_go.meeting else None,
                },
                "emergency_waiver": column.waiver,
            }
        )
    review = matrix.review
    return {
        "release": matrix.release.pk,
        "version": matrix.release.version,
        "is_emergency": matrix.release.is_emergency,
        "environments": environments,
        "emergency": _requirement(matrix.emergency) if matrix.emergency is not None else None,
        "review": None
        if review is None
        else {
            "due_at": review.due_at,
            "completed_at": review.completed_at,
            "overdue": review.is_overdue(),
        },
        "approvals": ApprovalSerializer(matrix.history, many=True).data,
    }


class AttendeeSerializer(serializers.Serializer):
    person = serializers.CharField(source="person.username")
    seat = serializers.ChoiceField(choices=Seat.choices)


class VoteOutSerializer(serializers.Serializer):
    person = serializers.CharField(source="person.username")
    vote = serializers.ChoiceField(choices=Vote.choices)
    comment = serializers.CharField()
    updated_at = serializers.DateTimeField()


class CriterionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    title = serializers.CharField()
    automatic = serializers.BooleanField(source="is_auto")
    checked = serializers.BooleanField(
        allow_null=True, help_text="Met (go criterion) or raised (trigger)."
    )
    note = serializers.CharField()


class MeetingSerializer(serializers.ModelSerializer):
    release = serializers.IntegerField(source="release_id", read_only=True)
    environment = serializers.CharField(source="environment.name", read_only=True)
    decided_by = serializers.CharField(
        source="decided_by.username", read_only=True, allow_null=True, default=None
    )
    attendees = AttendeeSerializer(many=True, read_only=True)
    votes = VoteOutSerializer(many=True, read_only=True)
    criteria = CriterionSerializer(many=True, read_only=True)

    class Meta:
        model = GoNoGoMeeting
        fields = [
            "id",
            "release",
            "environment",
            "scheduled_for",
            "security_sensitive",
            "status",
            "decision",
            "decision_reason",
            "decided_by",
            "decided_at",
            "decided_version",
            "decided_artifact_version",
            "decided_commit_sha",
            "attendees",
            "votes",
            "criteria",
        ]
        read_only_fields = fields


# --- Input -----------------------------------------------------------------------------


class DecisionInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=ApprovalKind.choices,
        help_text="An emergency approval also needs the justification as comment.",
    )
    environment = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=40,
        help_text="Environment name (the one the decision is about); omit for a scope approval.",
    )
    comment = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=5000,
        help_text="Required to reject.",
    )
    role = serializers.ChoiceField(
        required=False,
        allow_blank=True,
        default="",
        choices=Role.choices,
        help_text="The role you act in; defaults to the first eligible role you hold.",
    )


class WithdrawInputSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class RequestInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ApprovalKind.choices)
    environment = serializers.CharField(required=False, allow_blank=True, default="", max_length=40)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class EmergencyInputSerializer(serializers.Serializer):
    environment = serializers.CharField(
        max_length=40,
        default="production",
        help_text="The production environment the hotfix goes to.",
    )
    justification = serializers.CharField(
        max_length=5000, help_text="Why the hotfix cannot wait for staging."
    )


class VoteInputSerializer(serializers.Serializer):
    vote = serializers.ChoiceField(choices=Vote.choices)
    comment = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=2000,
        help_text="Required for a no-go vote.",
    )


class MeetingDecisionInputSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=MeetingDecision.choices)
    reason = serializers.CharField(max_length=5000)


# --- Configuration: approval policies and go/no-go scheduling ------------------------------


class ApprovalPolicyDetailSerializer(serializers.Serializer):
    """One environment's approval policy as the policies page shows it."""

    project = serializers.CharField(source="environment.project.slug")
    environment = serializers.CharField(source="environment.name")
    saved = serializers.BooleanField(
        source="is_saved", help_text="False while the environment runs on the defaults."
    )
    required_approvals = serializers.IntegerField()
    approver_roles = serializers.ListField(child=serializers.ChoiceField(choices=Role.choices))
    requires_qa_signoff = serializers.BooleanField()
    requires_scope_approval = serializers.BooleanField()
    requires_go_no_go = serializers.BooleanField()
    approval_valid_hours = serializers.IntegerField(allow_null=True)
    updated_at = serializers.DateTimeField(allow_null=True)
    updated_by = serializers.CharField(
        source="updated_by.username", allow_null=True, default=None, read_only=True
    )


class ApprovalPolicyInputSerializer(serializers.Serializer):
    """Every field is optional: what is left out keeps its value. The ranges are the service's."""

    required_approvals = serializers.IntegerField(required=False)
    approver_roles = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Project role names."
    )
    requires_qa_signoff = serializers.BooleanField(required=False)
    requires_scope_approval = serializers.BooleanField(required=False)
    requires_go_no_go = serializers.BooleanField(required=False)
    approval_valid_hours = serializers.IntegerField(
        required=False, allow_null=True, help_text="null: approvals never expire."
    )


class MeetingAttendeeInputSerializer(serializers.Serializer):
    person = serializers.CharField(help_text="The person's username.")
    seat = serializers.ChoiceField(choices=Seat.choices)


class MeetingScheduleInputSerializer(serializers.Serializer):
    release = serializers.IntegerField(help_text="The release's id.")
    environment = serializers.CharField(max_length=40, help_text="Environment name.")
    scheduled_for = serializers.DateTimeField(
        help_text="ISO 8601 with a time zone, e.g. 2026-12-03T14:00:00+01:00."
    )
    security_sensitive = serializers.BooleanField(required=False, default=False)
    attendees = MeetingAttendeeInputSerializer(
        many=True,
        required=False,
        help_text="Left out: everyone whose role fills a seat. The release manager always attends.",
    )


class MeetingRescheduleInputSerializer(serializers.Serializer):
    scheduled_for = serializers.DateTimeField(help_text="ISO 8601 with a time zone.")
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class MeetingCancelInputSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")
