"""Shapes of the monitoring configuration API: policies, the rollback hook, health and metric checks.

Secrets are write-only. Check headers are sent as a mapping and answered as
``header_names`` only; the rollback hook's secret is answered as
``rollback_hook_secret_set``. The serializers parse types; every rule (ranges,
the scheduler's limit, URLs the fetcher may reach) is the service's, so the
page and the API refuse the same input with the same sentence.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from monitoring.choices import Direction, HttpMethod, MetricProvider
from monitoring.conf import tick_seconds
from monitoring.models import EnvironmentPolicy, HealthCheck, MetricCheck
from monitoring.verdicts import MIN_MEASUREMENTS

# --- Policy ----------------------------------------------------------------------------


def _seconds(value) -> float:
    return value.total_seconds()


class MonitoringPolicySerializer(serializers.Serializer):
    project = serializers.CharField(source="environment.project.slug")
    environment = serializers.CharField(source="environment.name")
    saved = serializers.SerializerMethodField(
        help_text="False while the environment runs on the defaults (nothing saved yet)."
    )
    poll_interval_seconds = serializers.SerializerMethodField()
    canary_percent = serializers.IntegerField()
    canary_duration_seconds = serializers.SerializerMethodField()
    post_deploy_duration_seconds = serializers.SerializerMethodField(
        help_text="0: no post-deploy window in this environment."
    )
    auto_promote_canary = serializers.BooleanField()
    rollback_hook_url = serializers.CharField()
    rollback_hook_secret_set = serializers.SerializerMethodField(
        help_text="Whether a hook secret is stored; the secret itself is never answered."
    )
    tls_min_days = serializers.IntegerField()
    precheck_max_age_seconds = serializers.SerializerMethodField()
    limits = serializers.SerializerMethodField(
        help_text="What every policy must respect: the scheduler's tick (the shortest poll "
        "interval) and the measurements a window needs to pass."
    )
    updated_at = serializers.DateTimeField(allow_null=True)
    updated_by = serializers.CharField(
        source="updated_by.username", allow_null=True, default=None, read_only=True
    )

    @extend_schema_field(serializers.BooleanField())
    def get_saved(self, policy: EnvironmentPolicy) -> bool:
        return policy.pk is not None

    @extend_schema_field(serializers.FloatField())
    def get_poll_interval_seconds(self, policy: EnvironmentPolicy) -> float:
        return _seconds(policy.poll_interval)

    @extend_schema_field(serializers.FloatField())
    def get_canary_duration_seconds(self, policy: EnvironmentPolicy) -> float:
        return _seconds(policy.canary_duration)

    @extend_schema_field(serializers.FloatField())
    def get_post_deploy_duration_seconds(self, policy: EnvironmentPolicy) -> float:
        return _seconds(policy.post_deploy_duration)

    @extend_schema_field(serializers.FloatField())
    def get_precheck_max_age_seconds(self, policy: EnvironmentPolicy) -> float:
        return _seconds(policy.precheck_max_age)

    @extend_schema_field(serializers.BooleanField())
    def get_rollback_hook_secret_set(self, policy: EnvironmentPolicy) -> bool:
        return bool(policy.rollback_hook_secret)

    @extend_schema_field(
        serializers.DictField(
            child=serializers.FloatField(),
            help_text="`min_poll_interval_seconds` and `min_measurements`.",
        )
    )
    def get_limits(self, policy: EnvironmentPolicy) -> dict:
        return {"min_poll_interval_seconds": tick_seconds(), "min_measurements": MIN_MEASUREMENTS}


# An input serializer whose field names differ from the policy service's (``SERVICE_FIELDS``).
# A comment, not a docstring: the schema would describe the serializers with it.
class _ServiceNames:
    # API name → the service's field name; names not listed are the same in both.
    SERVICE_FIELDS: dict[str, str] = {}

    @classmethod
    def service_data(cls, data: dict[str, Any]) -> dict[str, Any]:
        return {cls.SERVICE_FIELDS.get(key, key): value for key, value in data.items()}

    @classmethod
    def api_details(cls, details: dict[str, Any]) -> dict[str, Any]:
        """A service's field errors under the API's field names."""
        names = {service: api for api, service in cls.SERVICE_FIELDS.items()}
        return {names.get(key, key): value for key, value in (details or {}).items()}


class MonitoringPolicyInputSerializer(_ServiceNames, serializers.Serializer):
    """Every field is optional: what is left out keeps its current value."""

    poll_interval_seconds = serializers.FloatField(required=False)
    canary_percent = serializers.IntegerField(required=False)
    canary_duration_seconds = serializers.FloatField(required=False)
    post_deploy_duration_seconds = serializers.FloatField(required=False)
    auto_promote_canary = serializers.BooleanField(required=False)
    rollback_hook_url = serializers.CharField(required=False, allow_blank=True, max_length=500)
    rollback_hook_secret = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        write_only=True,
        trim_whitespace=False,
        help_text="Write-only. Sent as `Authorization: Bearer <secret>`; left out: the stored one "
        "stays; an empty string removes it.",
    )
    tls_min_days = serializers.IntegerField(required=False)
    precheck_max_age_seconds = serializers.FloatField(required=False)

    SERVICE_FIELDS = {
        "poll_interval_seconds": "poll_interval",
        "canary_duration_seconds": "canary_duration",
        "post_deploy_duration_seconds": "post_deploy_duration",
        "precheck_max_age_seconds": "precheck_max_age",
    }


class RollbackHookSerializer(serializers.Serializer):
    project = serializers.CharField(source="environment.project.slug")
    environment = serializers.CharField(source="environment.name")
    url = serializers.CharField(source="rollback_hook_url")
    secret_set = serializers.SerializerMethodField(
        help_text="Whether a secret is stored; the secret itself is never answered."
    )

    @extend_schema_field(serializers.BooleanField())
    def get_secret_set(self, policy: EnvironmentPolicy) -> bool:
        return bool(policy.rollback_hook_secret)


class RollbackHookInputSerializer(_ServiceNames, serializers.Serializer):
    url = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=500,
        help_text="Where Shipcheck POSTs a rollback; an empty string removes the hook.",
    )
    secret = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        write_only=True,
        trim_whitespace=False,
        help_text="Write-only. Left out: the stored one stays; an empty string removes it.",
    )

    SERVICE_FIELDS = {"url": "rollback_hook_url", "secret": "rollback_hook_secret"}


# --- Checks ----------------------------------------------------------------------------

_COMMON_OUT = [
    "id",
    "kind",
    "project",
    "environment",
    "name",
    "url",
    "timeout_seconds",
    "header_names",
    "failure_limit",
    "inconclusive_limit",
    "consecutive_error_limit",
    "is_critical",
    "enabled",
    "created_at",
    "updated_at",
]


class _CheckOutBase(serializers.ModelSerializer):
    kind = serializers.CharField(read_only=True)
    project = serializers.CharField(source="environment.project.slug", read_only=True)
    environment = serializers.CharField(source="environment.name", read_only=True)
    header_names = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="The names of the headers sent with each poll; their values are never answered.",
    )


class HealthCheckSerializer(_CheckOutBase):
    class Meta:
        model = HealthCheck
        fields = [*_COMMON_OUT, "method", "expected_statuses", "json_path", "expected_value"]
        read_only_fields = fields


class MetricCheckSerializer(_CheckOutBase):
    class Meta:
        model = MetricCheck
        fields = [
            *_COMMON_OUT,
            "provider",
            "query",
            "json_path",
            "unit",
            "direction",
            "min_value",
            "max_value",
            "baseline_delta",
            "baseline_ratio",
            "noise_floor",
            "use_in_precheck",
        ]
        read_only_fields = fields


class _CheckInBase(serializers.Serializer):
    """Every field is optional here; the service says what a check needs (a name, a URL …)."""

    name = serializers.CharField(required=False, allow_blank=True, max_length=80)
    url = serializers.CharField(required=False, allow_blank=True, max_length=500)
    timeout_seconds = serializers.FloatField(required=False)
    headers = serializers.DictField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False),
        required=False,
        write_only=True,
        help_text='Write-only, e.g. `{"Authorization": "Bearer …"}`. Left out on an edit: the '
        "stored headers stay; `{}` removes them all; a mapping replaces them.",
    )
    failure_limit = serializers.IntegerField(required=False)
    inconclusive_limit = serializers.IntegerField(required=False)
    consecutive_error_limit = serializers.IntegerField(required=False)
    is_critical = serializers.BooleanField(required=False)
    enabled = serializers.BooleanField(required=False)


class HealthCheckInputSerializer(_CheckInBase):
    method = serializers.ChoiceField(choices=HttpMethod.choices, required=False)
    expected_statuses = serializers.CharField(required=False, allow_blank=True, max_length=60)
    json_path = serializers.CharField(required=False, allow_blank=True, max_length=200)
    expected_value = serializers.CharField(required=False, allow_blank=True, max_length=200)


class MetricCheckInputSerializer(_CheckInBase):
    provider = serializers.ChoiceField(choices=MetricProvider.choices, required=False)
    query = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    json_path = serializers.CharField(required=False, allow_blank=True, max_length=200)
    unit = serializers.CharField(required=False, allow_blank=True, max_length=16)
    direction = serializers.ChoiceField(choices=Direction.choices, required=False)
    min_value = serializers.FloatField(required=False, allow_null=True)
    max_value = serializers.FloatField(required=False, allow_null=True)
    baseline_delta = serializers.FloatField(required=False, allow_null=True)
    baseline_ratio = serializers.FloatField(required=False, allow_null=True)
    noise_floor = serializers.FloatField(required=False, allow_null=True)
    use_in_precheck = serializers.BooleanField(required=False)
