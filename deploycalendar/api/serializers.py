"""Shapes of the calendar API (input and output apart where they differ)."""

from __future__ import annotations

from rest_framework import serializers

from deploycalendar.choices import QueueStatus, WindowKind
from deploycalendar.models import DeployWindow, Freeze, Override, QueuedPromotion
from deploycalendar.rules import RuleError, rule_summary


def _summary(row) -> str:
    try:
        return rule_summary(row.as_rule())
    except (RuleError, ValueError):  # pragma: no cover - stored rules were validated
        return ""


class _RuleOut(serializers.ModelSerializer):
    project = serializers.SerializerMethodField()
    environment = serializers.SerializerMethodField()
    summary = serializers.SerializerMethodField(help_text="The rule in plain words.")

    def get_project(self, obj) -> str | None:
        return obj.environment.project.slug if obj.environment_id else None

    def get_environment(self, obj) -> str | None:
        return obj.environment.name if obj.environment_id else None

    def get_summary(self, obj) -> str:
        return _summary(obj)


class DeployWindowSerializer(_RuleOut):
    class Meta:
        model = DeployWindow
        fields = [
            "id",
            "project",
            "environment",
            "kind",
            "name",
            "start",
            "end",
            "time_zone",
            "rrule",
            "exdates",
            "release_types",
            "summary",
            "sequence",
            "updated_at",
        ]


class FreezeRuleSerializer(_RuleOut):
    organisation_wide = serializers.BooleanField(read_only=True)

    class Meta:
        model = Freeze
        fields = [
            "id",
            "project",
            "environment",
            "organisation_wide",
            "name",
            "reason",
            "start",
            "end",
            "time_zone",
            "rrule",
            "exdates",
            "summary",
            "sequence",
            "updated_at",
        ]


class _RuleIn(serializers.Serializer):
    start = serializers.CharField(max_length=19, help_text="Wall clock, e.g. 2026-12-20T00:00.")
    end = serializers.CharField(max_length=19, help_text="Wall clock, exclusive.")
    time_zone = serializers.CharField(max_length=64, help_text="IANA zone, e.g. Europe/Berlin.")
    rrule = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    exdates = serializers.ListField(
        child=serializers.CharField(max_length=19), required=False, default=list, max_length=366
    )


class WindowInputSerializer(_RuleIn):
    project = serializers.SlugField()
    environment = serializers.SlugField()
    name = serializers.CharField(max_length=120)
    kind = serializers.ChoiceField(choices=WindowKind.choices, default=WindowKind.ALLOWED)
    release_types = serializers.ListField(
        child=serializers.CharField(max_length=16), required=False, default=list, max_length=10
    )


class FreezeInputSerializer(_RuleIn):
    project = serializers.SlugField(
        required=False, help_text="Leave out (with environment) for an organisation-wide freeze."
    )
    environment = serializers.SlugField(required=False)
    name = serializers.CharField(max_length=120)
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    start = serializers.CharField(max_length=19, required=False, allow_blank=True, default="")
    end = serializers.CharField(max_length=19, required=False, allow_blank=True, default="")
    time_zone = serializers.CharField(max_length=64, default="UTC")
    cron_start = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text="GitLab-style cron, e.g. '0 23 * * 5' (instead of start/end).",
    )
    cron_end = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class CalendarOverrideSerializer(serializers.ModelSerializer):
    release = serializers.CharField(source="release.version")
    environment = serializers.CharField(source="environment.name")
    granted_by = serializers.CharField(source="granted_by.username")

    class Meta:
        model = Override
        fields = ["id", "release", "environment", "reason", "granted_by", "created_at"]


class OverrideInputSerializer(serializers.Serializer):
    release = serializers.IntegerField(min_value=1, help_text="The release's id.")
    environment = serializers.SlugField()
    reason = serializers.CharField(max_length=2000)


class QueuedPromotionSerializer(serializers.ModelSerializer):
    release = serializers.CharField(source="release.version")
    release_id = serializers.IntegerField()
    project = serializers.CharField(source="release.project.slug")
    environment = serializers.CharField(source="environment.name")
    status = serializers.ChoiceField(choices=QueueStatus.choices)
    requested_by = serializers.CharField(source="requested_by.username")

    class Meta:
        model = QueuedPromotion
        fields = [
            "id",
            "release",
            "release_id",
            "project",
            "environment",
            "status",
            "not_before",
            "requested_by",
            "deployment_id",
            "outcome",
            "created_at",
            "finished_at",
        ]


class QueueInputSerializer(serializers.Serializer):
    release = serializers.IntegerField(min_value=1, help_text="The release's id.")
    environment = serializers.SlugField()


class CalendarBandSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="freeze, allowed (a deploy window) or maintenance.")
    name = serializers.CharField()
    scope = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    summary = serializers.CharField()


class CalendarDeploymentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    project = serializers.CharField(source="release.project.slug")
    release = serializers.CharField(source="release.version")
    release_id = serializers.IntegerField()
    environment = serializers.CharField(source="environment.name")
    status = serializers.CharField()
    created_at = serializers.DateTimeField()


class CalendarSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    bands = CalendarBandSerializer(many=True)
    deployments = CalendarDeploymentSerializer(many=True)
