"""Shapes of the incidents API (docs/incidents.md). Inputs validate; services decide."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from incidents.choices import ROLLBACK_CRITERIA
from incidents.models import (
    ActionItem,
    EscapedDefect,
    Incident,
    MitigationChoice,
    PostMortem,
    StatusUpdate,
    TicketConfirmation,
)
from incidents.services.postmortems import SECTION_FIELDS


class StatusUpdateSerializer(serializers.ModelSerializer):
    state = serializers.CharField(
        read_only=True, help_text="investigating, identified, monitoring or resolved."
    )

    class Meta:
        model = StatusUpdate
        fields = [
            "id",
            "state",
            "impact",
            "actions_taken",
            "next_steps",
            "body",
            "author_label",
            "created_at",
        ]
        read_only_fields = fields


class IncidentSerializer(serializers.ModelSerializer):
    project = serializers.CharField(source="project.slug", read_only=True)
    environment = serializers.CharField(source="environment.name", read_only=True, default=None)
    severity_label = serializers.SerializerMethodField()
    state = serializers.CharField(
        read_only=True, help_text="investigating, identified, monitoring or resolved."
    )
    cause_release_version = serializers.CharField(
        source="cause_release.version", read_only=True, default=None
    )
    cause_proposed = serializers.SerializerMethodField()
    commander = serializers.SerializerMethodField()
    responders = serializers.SerializerMethodField()
    mitigation = serializers.SerializerMethodField()
    hotfix_release = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Incident
        fields = [
            "id",
            "project",
            "environment",
            "title",
            "severity",
            "severity_label",
            "state",
            "impact",
            "started_at",
            "detected_at",
            "resolved_at",
            "cause_deployment",
            "cause_release",
            "cause_release_version",
            "cause_proposed",
            "commander",
            "responders",
            "mitigation",
            "hotfix_release",
            "created_at",
            "url",
        ]
        read_only_fields = fields

    def _details(self, obj: Incident) -> Any:
        return getattr(obj, "details", None)

    def get_severity_label(self, obj: Incident) -> str:
        return f"SEV{obj.severity}"

    def get_cause_proposed(self, obj: Incident) -> bool:
        details = self._details(obj)
        return bool(details and details.cause_proposed)

    def get_commander(self, obj: Incident) -> str | None:
        details = self._details(obj)
        return details.commander.get_username() if details and details.commander else None

    def get_responders(self, obj: Incident) -> list[str]:
        details = self._details(obj)
        return sorted(u.get_username() for u in details.responders.all()) if details else []

    def get_mitigation(self, obj: Incident) -> dict[str, Any] | None:
        details = self._details(obj)
        if not details or not details.mitigation:
            return None
        return {
            "decision": details.mitigation,
            "reason": details.mitigation_reason,
            "criteria": list(details.rollback_criteria),
        }

    def get_hotfix_release(self, obj: Incident) -> int | None:
        details = self._details(obj)
        return details.hotfix_release_id if details else None

    def get_url(self, obj: Incident) -> str:
        return f"/incidents/{obj.pk}/"


class IncidentDetailSerializer(IncidentSerializer):
    updates = StatusUpdateSerializer(many=True, read_only=True)
    postmortem = serializers.SerializerMethodField()

    class Meta(IncidentSerializer.Meta):
        fields = [*IncidentSerializer.Meta.fields, "updates", "postmortem"]
        read_only_fields = fields

    def get_postmortem(self, obj: Incident) -> int | None:
        postmortem = PostMortem.objects.filter(incident=obj).values_list("pk", flat=True).first()
        return postmortem


class IncidentOpenSerializer(serializers.Serializer):
    project = serializers.SlugField(max_length=60)
    title = serializers.CharField(max_length=200)
    severity = serializers.CharField(max_length=8, help_text="SEV1–SEV4, or 1–4.")
    started_at = serializers.DateTimeField()
    detected_at = serializers.DateTimeField(required=False, allow_null=True)
    impact = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    environment = serializers.SlugField(required=False, allow_null=True, max_length=40)
    cause_deployment = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="Leave out and Shipcheck proposes the last production deployment before the start.",
    )
    commander = serializers.CharField(required=False, allow_null=True, max_length=150)
    responders = serializers.ListField(
        child=serializers.CharField(max_length=150), required=False, default=list, max_length=50
    )


class TimelineItemSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    text = serializers.CharField()
    who = serializers.CharField()
    automatic = serializers.BooleanField()
    kind = serializers.CharField()
    detail = serializers.CharField()


class IncidentStateInputSerializer(serializers.Serializer):
    state = serializers.CharField(
        max_length=16, help_text="investigating, identified, monitoring or resolved."
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class IncidentResolveInputSerializer(serializers.Serializer):
    resolved_at = serializers.DateTimeField(required=False, allow_null=True)
    summary = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class StatusUpdateInputSerializer(serializers.Serializer):
    state = serializers.CharField(
        max_length=16,
        required=False,
        help_text="investigating, identified, monitoring or resolved.",
    )
    impact = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    actions_taken = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=5000
    )
    next_steps = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=5000
    )


class TimelineEntryInputSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=5000)
    at = serializers.DateTimeField(required=False, allow_null=True)


class MitigationInputSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=MitigationChoice.choices)
    reason = serializers.CharField(max_length=5000)
    criteria = serializers.ListField(
        child=serializers.ChoiceField(choices=ROLLBACK_CRITERIA), required=False, default=list
    )


class HotfixInputSerializer(serializers.Serializer):
    version = serializers.CharField(max_length=64)
    title = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class HotfixResultSerializer(serializers.Serializer):
    release = serializers.IntegerField()
    version = serializers.CharField()


class IncidentPeopleInputSerializer(serializers.Serializer):
    commander = serializers.CharField(required=False, max_length=150)
    responders = serializers.ListField(
        child=serializers.CharField(max_length=150), required=False, max_length=50
    )


class ActionItemSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", read_only=True)
    done = serializers.SerializerMethodField()

    class Meta:
        model = ActionItem
        fields = ["id", "title", "owner", "due_on", "ticket_key", "done", "done_at"]
        read_only_fields = fields

    def get_done(self, obj: ActionItem) -> bool:
        return obj.done_at is not None


class PostMortemSerializer(serializers.ModelSerializer):
    project = serializers.CharField(source="project.slug", read_only=True)
    state = serializers.CharField(read_only=True, help_text="draft, in_review, reviewed or closed.")
    items = ActionItemSerializer(many=True, read_only=True)

    class Meta:
        model = PostMortem
        fields = [
            "id",
            "project",
            "kind",
            "incident",
            "release",
            "deployment",
            "emergency_review",
            "title",
            "state",
            "due_on",
            *SECTION_FIELDS,
            "reviewed_at",
            "closed_at",
            "created_at",
            "items",
        ]
        read_only_fields = fields


class PostMortemUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(required=False, max_length=200)
    summary = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    impact = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    root_causes = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    trigger = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    resolution = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    detection = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    went_well = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    went_wrong = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    got_lucky = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    timeline_notes = serializers.CharField(required=False, allow_blank=True, max_length=20000)


class PostMortemStateSerializer(serializers.Serializer):
    state = serializers.CharField(max_length=16, help_text="draft, in_review, reviewed or closed.")


class ActionItemInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=300)
    owner = serializers.CharField(max_length=150, help_text="The owner's username.")
    due_on = serializers.DateField()
    ticket_key = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)


class ActionItemDoneSerializer(serializers.Serializer):
    done = serializers.BooleanField(default=True)


class EscapedDefectSerializer(serializers.ModelSerializer):
    release_version = serializers.CharField(source="release.version", read_only=True)

    class Meta:
        model = EscapedDefect
        fields = [
            "id",
            "release",
            "release_version",
            "ticket",
            "key",
            "title",
            "severity",
            "found_at",
            "created_at",
        ]
        read_only_fields = fields


class TicketCheckSerializer(serializers.ModelSerializer):
    key = serializers.CharField(source="ticket.key", read_only=True)

    class Meta:
        model = TicketConfirmation
        fields = ["key", "result", "note", "escaped_defect", "checked_at"]
        read_only_fields = fields


class CloseBlockerSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class ClosingTicketSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField(allow_blank=True)
    result = serializers.CharField(allow_null=True, help_text="confirmed, reopened, or null.")
    note = serializers.CharField(allow_blank=True)


class ReleaseClosingSerializer(serializers.Serializer):
    release = serializers.IntegerField()
    closed = serializers.BooleanField()
    closed_at = serializers.DateTimeField(allow_null=True)
    summary = serializers.CharField(allow_blank=True)
    tickets = ClosingTicketSerializer(many=True)
    blockers = CloseBlockerSerializer(many=True)


class TicketCheckInputSerializer(serializers.Serializer):
    result = serializers.ChoiceField(choices=[("confirmed", "confirmed"), ("reopened", "reopened")])
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    severity = serializers.CharField(required=False, default="3", max_length=8)


class ReleaseCloseInputSerializer(serializers.Serializer):
    summary = serializers.CharField(max_length=10000)
