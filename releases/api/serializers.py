"""Input and output shapes of the releases API.

Inputs validate form (types, lengths, the version's syntax); the services
apply the rules (permissions, transitions, gates, uniqueness).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django.urls import NoReverseMatch
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from core.api.deprecation import USED_KEY
from releases.choices import (
    DEPLOYMENT_FINISH_CHOICES,
    DeploymentStatus,
    DeploymentStrategy,
    GateState,
    ReleaseType,
)
from releases.exceptions import InvalidVersion
from releases.models import Commit, Deployment, Release, Ticket
from releases.versions import version_parse

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from projects.models import Project

# --- Output ----------------------------------------------------------------


class DeploymentSerializer(serializers.ModelSerializer):
    release = serializers.IntegerField(source="release_id", read_only=True)
    release_version = serializers.CharField(source="release.version", read_only=True)
    environment = serializers.CharField(source="environment.name", read_only=True)
    deployed_by = serializers.CharField(source="deployed_by_label", read_only=True)

    class Meta:
        model = Deployment
        fields = [
            "id",
            "release",
            "release_version",
            "environment",
            "status",
            "strategy",
            "deployed_by",
            "artifact_version",
            "commit_sha",
            "notes",
            "created_at",
            "started_at",
            "finished_at",
            "verified_at",
        ]
        read_only_fields = fields


class TicketSerializer(serializers.ModelSerializer):
    class Meta:
        model = Ticket
        fields = ["key", "title", "url", "status", "type", "created_at"]
        read_only_fields = fields


class CommitSerializer(serializers.ModelSerializer):
    class Meta:
        model = Commit
        fields = ["sha", "message", "author", "committed_at", "created_at"]
        read_only_fields = fields


class ReleaseSerializer(serializers.ModelSerializer):
    project: serializers.SlugRelatedField[Project] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    release_manager: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    created_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="Who created the release; for a pipeline's release, the person who owns its "
        "token. Null only when that person is unknown.",
    )
    created_by_token = serializers.CharField(
        source="created_by_token_name",
        read_only=True,
        allow_null=True,
        help_text="The name of the API token that created the release; null when a person did.",
    )
    web_url = serializers.SerializerMethodField(help_text="The release's page in the browser.")

    class Meta:
        model = Release
        fields = [
            "id",
            "project",
            "version",
            "type",
            "title",
            "description",
            "notes",
            "rollback_plan",
            "release_manager",
            "created_by",
            "created_by_token",
            "target_date",
            "status",
            "artifact_version",
            "commit_sha",
            "is_emergency",
            "created_at",
            "updated_at",
            "web_url",
        ]
        read_only_fields = fields

    def to_representation(self, release: Release) -> dict:
        data = super().to_representation(release)
        data["created_by_token"] = data["created_by_token"] or None
        return data

    @extend_schema_field(serializers.CharField())
    def get_web_url(self, release: Release) -> str:
        try:
            return release.get_absolute_url()
        except NoReverseMatch:
            return ""


class PipelineStageSerializer(serializers.Serializer):
    environment = serializers.CharField(source="environment.name")
    tier = serializers.CharField(source="environment.tier")
    deployment = DeploymentSerializer(
        allow_null=True, help_text="The latest deployment there, if any."
    )


class ReleaseDetailSerializer(ReleaseSerializer):
    pipeline = serializers.SerializerMethodField(
        help_text="Each environment in promotion order with the release's latest deployment there."
    )

    class Meta(ReleaseSerializer.Meta):
        fields = [*ReleaseSerializer.Meta.fields, "pipeline"]
        read_only_fields = fields

    @extend_schema_field(PipelineStageSerializer(many=True))
    def get_pipeline(self, release: Release) -> list[dict[str, Any]]:
        from releases.selectors import pipeline_stages

        if not hasattr(release, "all_deployments"):
            return []
        # many=True: a ReturnList of dicts at run time (the stubs only know ReturnDict).
        return cast(
            "list[dict[str, Any]]",
            PipelineStageSerializer(pipeline_stages(release), many=True).data,
        )


class GateSerializer(serializers.Serializer):
    code = serializers.CharField()
    title = serializers.CharField()
    state = serializers.ChoiceField(choices=GateState.choices)
    reason = serializers.CharField()
    next_opening = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="Only on a gate closed for a time: when it opens next (null: not within a year).",
    )
    freeze = serializers.CharField(
        required=False, help_text="Only on a gate closed for a time: the freeze that holds, if any."
    )


class GateReportSerializer(serializers.Serializer):
    release = serializers.CharField(help_text="The release's version.")
    environment = serializers.CharField()
    open = serializers.BooleanField(help_text="True when every gate is open or waived.")
    gates = GateSerializer(many=True)


# --- Input -----------------------------------------------------------------


def _validate_version(value: str) -> str:
    try:
        return version_parse(value)[0]
    except InvalidVersion as exc:
        raise serializers.ValidationError(exc.message) from None


class ReleaseCreateSerializer(serializers.Serializer):
    project = serializers.SlugField(
        max_length=60, help_text="Slug of a project you may create releases in."
    )
    version = serializers.CharField(
        max_length=64, help_text="Semantic version, e.g. 2.4.0 or 3.0.0-rc.1."
    )
    title = serializers.CharField(max_length=200)
    type = serializers.ChoiceField(choices=ReleaseType.choices, default=ReleaseType.MINOR)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    notes = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Markdown."
    )
    rollback_plan = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Markdown."
    )
    release_manager = serializers.CharField(
        required=False, max_length=150, help_text="Username; defaults to the caller (a person)."
    )
    target_date = serializers.DateField(required=False, allow_null=True, default=None)
    artifact_version = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=120
    )
    commit_sha = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)

    def validate_version(self, value: str) -> str:
        return _validate_version(value)


class ReleaseUpdateSerializer(serializers.Serializer):
    """Every field optional: send only what changes (PATCH)."""

    version = serializers.CharField(max_length=64, required=False)
    title = serializers.CharField(max_length=200, required=False)
    type = serializers.ChoiceField(choices=ReleaseType.choices, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    notes = serializers.CharField(required=False, allow_blank=True)
    rollback_plan = serializers.CharField(required=False, allow_blank=True)
    release_manager = serializers.CharField(required=False, max_length=150, help_text="Username.")
    target_date = serializers.DateField(required=False, allow_null=True)
    artifact_version = serializers.CharField(required=False, allow_blank=True, max_length=120)
    commit_sha = serializers.CharField(required=False, allow_blank=True, max_length=64)

    def validate_version(self, value: str) -> str:
        return _validate_version(value)

    def validate(self, attrs: dict) -> dict:
        if not attrs:
            raise serializers.ValidationError("Send at least one field to change.")
        return attrs


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="Why; kept in the audit trail.")


class PromoteSerializer(serializers.Serializer):
    environment = serializers.CharField(max_length=40, help_text="Environment name, e.g. staging.")
    strategy = serializers.ChoiceField(
        choices=DeploymentStrategy.choices, default=DeploymentStrategy.ALL_AT_ONCE
    )
    artifact_version = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=120,
        help_text="Defaults to the release's artifact version.",
    )
    commit_sha = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


@extend_schema_serializer(deprecate_fields=["succeeded"])
class DeploymentFinishSerializer(serializers.Serializer):
    """``{"status": "succeeded" | "failed", "reason": "..."}``; ``succeeded: bool`` is the old spelling."""

    status = serializers.ChoiceField(
        choices=DEPLOYMENT_FINISH_CHOICES,
        required=False,
        help_text="How the deployment ended: succeeded or failed.",
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=2000,
        help_text="Why, or what happened; kept in the audit trail.",
    )
    succeeded = serializers.BooleanField(
        required=False,
        help_text='Deprecated until 2027-06-01: send "status" instead '
        "(true is succeeded, false is failed).",
    )

    def validate(self, attrs: dict) -> dict:
        legacy = attrs.pop("succeeded", None)
        used = []
        if legacy is not None:
            implied = DeploymentStatus.SUCCEEDED if legacy else DeploymentStatus.FAILED
            if attrs.get("status", implied) != implied:
                raise serializers.ValidationError(
                    {"succeeded": ["Contradicts status; send status only."]}
                )
            attrs["status"] = implied
            used.append(
                f'"succeeded" is deprecated; send "status": "{implied}" instead '
                "(accepted until 2027-06-01)."
            )
        if "status" not in attrs:
            raise serializers.ValidationError(
                {"status": ['Say how the deployment ended: "succeeded" or "failed".']}
            )
        attrs[USED_KEY] = used
        return attrs
