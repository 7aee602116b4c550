"""Input and output shapes of the monitoring API.

Values can be infinite (Prometheus "+Inf"), which JSON cannot carry: every
number is given as ``value`` (a finite number or null) plus ``value_text``
(always a string, e.g. "+Inf").
"""

from __future__ import annotations

import math
from typing import Any, cast

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from monitoring.choices import RolloutState, WindowStatus
from monitoring.models import HookCall, MonitoringWindow, Sample, WindowCheck
from releases.api.serializers import DeploymentFinishSerializer
from releases.choices import DeploymentStrategy
from releases.models import Deployment


def _finite(value):
    return value if value is not None and math.isfinite(value) else None


def _text(value) -> str:
    if value is None:
        return ""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(value)


# --- Input -----------------------------------------------------------------------


class DeploymentStartSerializer(serializers.Serializer):
    release = serializers.IntegerField(help_text="The release's id.")
    environment = serializers.CharField(
        max_length=40, help_text="Environment name, e.g. production."
    )
    strategy = serializers.ChoiceField(
        choices=DeploymentStrategy.choices, default=DeploymentStrategy.ALL_AT_ONCE
    )
    canary_percent = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=100,
        help_text="Canary only: the share of traffic; the environment's policy when omitted.",
    )
    artifact_version = serializers.CharField(
        required=False, allow_blank=True, max_length=120, default=""
    )
    commit_sha = serializers.CharField(required=False, allow_blank=True, max_length=64, default="")
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")


class DeploymentReportSerializer(DeploymentFinishSerializer):
    """The words of ``POST /api/v1/deployments/{id}/finish/``: ``status`` and ``reason``."""


# --- Output ----------------------------------------------------------------------


class WindowCheckSerializer(serializers.ModelSerializer):
    baseline = serializers.SerializerMethodField()
    limits = serializers.SerializerMethodField()

    class Meta:
        model = WindowCheck
        fields = [
            "id",
            "name",
            "kind",
            "is_critical",
            "status",
            "reason",
            "passes",
            "failures",
            "inconclusives",
            "errors",
            "consecutive_errors",
            "baseline",
            "limits",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_baseline(self, check: WindowCheck) -> dict | None:
        baseline = check.baseline
        if baseline is None:
            return None
        return {
            "status": baseline.status,
            "value": _finite(baseline.value),
            "value_text": _text(baseline.value),
            "taken_at": baseline.taken_at,
        }

    @extend_schema_field(serializers.DictField())
    def get_limits(self, check: WindowCheck) -> dict:
        config = check.config or {}
        return {
            key: config.get(key)
            for key in (
                "failure_limit",
                "inconclusive_limit",
                "consecutive_error_limit",
                "min_value",
                "max_value",
                "baseline_delta",
                "baseline_ratio",
                "noise_floor",
                "direction",
                "unit",
            )
            if key in config
        }


class HookCallSerializer(serializers.ModelSerializer):
    class Meta:
        model = HookCall
        fields = [
            "id",
            "purpose",
            "status",
            "idempotency_key",
            "response_status",
            "error",
            "created_at",
            "sent_at",
            "finished_at",
        ]
        read_only_fields = fields


class WindowSerializer(serializers.ModelSerializer):
    deployment = serializers.IntegerField(source="deployment_id", read_only=True)
    release = serializers.CharField(source="deployment.release.version", read_only=True)
    environment = serializers.CharField(source="deployment.environment.name", read_only=True)
    verdict = serializers.CharField(
        source="reason", read_only=True, help_text="Why, in a sentence with the numbers."
    )
    poll_interval_seconds = serializers.SerializerMethodField()
    proceed = serializers.SerializerMethodField(
        help_text="Canary: true once the pipeline may continue to full rollout. Post-deploy: true once verified."
    )
    web_url = serializers.SerializerMethodField()

    class Meta:
        model = MonitoringWindow
        fields = [
            "id",
            "deployment",
            "release",
            "environment",
            "kind",
            "status",
            "verdict",
            "proceed",
            "rollout_state",
            "traffic_percent",
            "started_at",
            "ends_at",
            "finished_at",
            "poll_interval_seconds",
            "missed_slots",
            "extensions",
            "web_url",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.FloatField())
    def get_poll_interval_seconds(self, window: MonitoringWindow) -> float:
        return window.poll_interval.total_seconds()

    @extend_schema_field(serializers.BooleanField())
    def get_proceed(self, window: MonitoringWindow) -> bool:
        if window.kind == "canary":
            return (
                window.status == WindowStatus.PASSED and window.rollout_state == RolloutState.FULL
            )
        return window.status == WindowStatus.PASSED

    @extend_schema_field(serializers.CharField())
    def get_web_url(self, window: MonitoringWindow) -> str:
        return window.get_absolute_url()


class WindowDetailSerializer(WindowSerializer):
    checks = WindowCheckSerializer(many=True, read_only=True)
    hook_calls = HookCallSerializer(many=True, read_only=True)

    class Meta(WindowSerializer.Meta):
        fields = [*WindowSerializer.Meta.fields, "checks", "hook_calls"]
        read_only_fields = fields


class SampleSerializer(serializers.ModelSerializer):
    check_id = serializers.IntegerField(source="window_check_id", read_only=True)
    check_name = serializers.CharField(source="window_check.name", read_only=True)
    # Not ``get_value``: that name is DRF's own Field method for reading input.
    value = serializers.SerializerMethodField(method_name="get_finite_value")
    value_text = serializers.SerializerMethodField()

    class Meta:
        model = Sample
        fields = [
            "id",
            "check_id",
            "check_name",
            "slot",
            "taken_at",
            "status",
            "outcome",
            "value",
            "value_text",
            "http_status",
            "latency_ms",
            "detail",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_finite_value(self, sample: Sample) -> float | None:
        return _finite(sample.value)

    @extend_schema_field(serializers.CharField())
    def get_value_text(self, sample: Sample) -> str:
        return _text(sample.value)


@extend_schema_serializer(deprecate_fields=["deployed_by_label"])
class MonitoredDeploymentSerializer(serializers.ModelSerializer):
    release = serializers.IntegerField(source="release_id", read_only=True)
    release_version = serializers.CharField(source="release.version", read_only=True)
    environment = serializers.CharField(source="environment.name", read_only=True)
    deployed_by = serializers.CharField(
        source="deployed_by_label",
        read_only=True,
        help_text="Who started the deployment: a username, or token:<name> for a pipeline.",
    )
    deployed_by_label = serializers.CharField(
        read_only=True, help_text='Deprecated until 2027-06-01: the same as "deployed_by".'
    )
    windows = serializers.SerializerMethodField()

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
            "deployed_by_label",
            "artifact_version",
            "commit_sha",
            "started_at",
            "finished_at",
            "verified_at",
            "windows",
        ]
        read_only_fields = fields

    @extend_schema_field(WindowSerializer(many=True))
    def get_windows(self, deployment: Deployment) -> list[dict[str, Any]]:
        windows = getattr(deployment, "monitored_windows", None)
        if windows is None:
            windows = list(
                deployment.monitoring_windows.select_related(
                    "deployment__release", "deployment__environment"
                )
            )
        # many=True answers a list (a ListSerializer); the stubs type it as one serializer's dict.
        return cast("list[dict[str, Any]]", WindowSerializer(windows, many=True).data)
