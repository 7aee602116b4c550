"""Forms for the configuration pages. They parse input; the services validate the rules."""

from __future__ import annotations

from django import forms

from monitoring.choices import DecisionAction, Direction, HttpMethod, MetricProvider
from monitoring.conf import tick_seconds
from monitoring.services.config import parse_headers
from monitoring.verdicts import MIN_MEASUREMENTS

HEADERS_HELP = (
    "One per line, as Name: value (for example Authorization: Bearer …). Values are stored "
    "and sent, never shown again; leave empty to keep the stored ones."
)
LIMIT_HELP = "Argo-style: the check fails after more than this many failed measurements."


class PolicyForm(forms.Form):
    # No bounds here: the service states the limits (the scheduler's tick, 600 s) in its words.
    poll_interval = forms.FloatField(label="Poll every (seconds)")
    canary_percent = forms.IntegerField(label="Canary traffic (%)", min_value=1, max_value=100)
    canary_minutes = forms.FloatField(label="Canary duration (minutes)", max_value=1440)
    post_deploy_minutes = forms.FloatField(
        label="Post-deploy window (minutes)",
        min_value=0,
        max_value=1440,
        help_text="0: no post-deploy window in this environment.",
    )
    auto_promote_canary = forms.BooleanField(
        label="Proceed to full rollout when the canary passes",
        required=False,
        help_text="Unticked: a person approves the full rollout.",
    )
    rollback_hook_url = forms.CharField(
        label="Rollback webhook URL",
        required=False,
        max_length=500,
        help_text="Called once with a POST and an Idempotency-Key header when a window fails.",
    )
    rollback_hook_secret = forms.CharField(
        label="Webhook secret",
        required=False,
        max_length=200,
        widget=forms.PasswordInput(render_value=False),
        help_text="Sent as a bearer token. Leave empty to keep the stored secret.",
    )
    clear_secret = forms.BooleanField(label="Remove the stored secret", required=False)
    tls_min_days = forms.IntegerField(
        label="Certificates valid for at least (days)", min_value=0, max_value=365
    )
    precheck_max_age_minutes = forms.FloatField(
        label="Pre-checks count for (minutes)",
        min_value=1,
        max_value=1440,
        help_text="Production deployments need pre-checks this recent.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The limits the service enforces, stated where they are typed (docs/monitoring.md).
        tick = tick_seconds()
        self.fields[
            "poll_interval"
        ].help_text = f"At least {tick:g} s: the scheduler looks for due polls every {tick:g} s."
        self.fields["canary_minutes"].help_text = (
            f"At least {MIN_MEASUREMENTS} poll intervals: a window passes only on "
            f"{MIN_MEASUREMENTS} measurements or more."
        )
        self.fields["post_deploy_minutes"].help_text = (
            f"0: no post-deploy window in this environment; otherwise at least "
            f"{MIN_MEASUREMENTS} poll intervals."
        )

    @classmethod
    def initial_from(cls, policy) -> dict:
        return {
            "poll_interval": policy.poll_interval.total_seconds(),
            "canary_percent": policy.canary_percent,
            "canary_minutes": round(policy.canary_duration.total_seconds() / 60, 2),
            "post_deploy_minutes": round(policy.post_deploy_duration.total_seconds() / 60, 2),
            "auto_promote_canary": policy.auto_promote_canary,
            "rollback_hook_url": policy.rollback_hook_url,
            "tls_min_days": policy.tls_min_days,
            "precheck_max_age_minutes": round(policy.precheck_max_age.total_seconds() / 60, 2),
        }

    def service_data(self) -> dict:
        data = self.cleaned_data
        values = {
            "poll_interval": data["poll_interval"],
            "canary_percent": data["canary_percent"],
            "canary_duration": data["canary_minutes"] * 60,
            "post_deploy_duration": data["post_deploy_minutes"] * 60,
            "auto_promote_canary": data["auto_promote_canary"],
            "rollback_hook_url": data["rollback_hook_url"],
            "tls_min_days": data["tls_min_days"],
            "precheck_max_age": data["precheck_max_age_minutes"] * 60,
        }
        if data.get("clear_secret"):
            values["rollback_hook_secret"] = ""
        elif data.get("rollback_hook_secret"):
            values["rollback_hook_secret"] = data["rollback_hook_secret"]
        return values


# Service field → form field, where the names differ.
POLICY_FIELD_MAP = {
    "canary_duration": "canary_minutes",
    "post_deploy_duration": "post_deploy_minutes",
    "precheck_max_age": "precheck_max_age_minutes",
}


class _CheckForm(forms.Form):
    name = forms.CharField(max_length=80)
    url = forms.CharField(label="URL", max_length=500)
    timeout_seconds = forms.FloatField(
        label="Timeout (seconds)", min_value=0.1, max_value=30, initial=5
    )
    failure_limit = forms.IntegerField(min_value=0, max_value=1000, initial=1, help_text=LIMIT_HELP)
    inconclusive_limit = forms.IntegerField(
        min_value=0,
        max_value=1000,
        initial=3,
        help_text="Inconclusive after more than this many measurements without data.",
    )
    consecutive_error_limit = forms.IntegerField(
        min_value=0,
        max_value=1000,
        initial=4,
        help_text="Error (hold and page people) after more than this many failed measurements in a row.",
    )
    is_critical = forms.BooleanField(
        label="Critical: failing it fails the window at once", required=False, initial=True
    )
    enabled = forms.BooleanField(required=False, initial=True)
    headers = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text=HEADERS_HELP
    )
    clear_headers = forms.BooleanField(label="Remove the stored headers", required=False)

    def service_data(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if k not in ("headers", "clear_headers")}
        if self.cleaned_data.get("clear_headers"):
            data["headers"] = {}
        elif self.cleaned_data.get("headers"):
            data["headers"] = parse_headers(self.cleaned_data["headers"])
        return data

    @property
    def clears_headers(self) -> bool:
        return bool(self.cleaned_data.get("clear_headers"))


class HealthCheckForm(_CheckForm):
    method = forms.ChoiceField(choices=HttpMethod.choices, initial=HttpMethod.GET)
    expected_statuses = forms.CharField(
        max_length=60, initial="200", help_text="For example 200, 200,204, 200-299 or 2xx."
    )
    json_path = forms.CharField(
        label="JSON path",
        required=False,
        max_length=200,
        help_text="Optional, with an expected value: for example $.status.",
    )
    expected_value = forms.CharField(required=False, max_length=200, help_text="For example ok.")

    field_order = [
        "name",
        "url",
        "method",
        "expected_statuses",
        "json_path",
        "expected_value",
        "timeout_seconds",
        "failure_limit",
        "inconclusive_limit",
        "consecutive_error_limit",
        "is_critical",
        "enabled",
        "headers",
        "clear_headers",
    ]


def _optional_float(label: str, help_text: str = "") -> forms.FloatField:
    return forms.FloatField(label=label, required=False, help_text=help_text)


class MetricCheckForm(_CheckForm):
    provider = forms.ChoiceField(choices=MetricProvider.choices, initial=MetricProvider.PROMETHEUS)
    query = forms.CharField(
        label="PromQL query",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="An instant query returning one series or a scalar.",
    )
    json_path = forms.CharField(
        label="JSON path",
        required=False,
        max_length=200,
        help_text="JSON endpoint: where the number is, for example $.latency.p95.",
    )
    unit = forms.CharField(
        required=False, max_length=16, help_text="Shown with the numbers: %, ms, req/s …"
    )
    direction = forms.ChoiceField(choices=Direction.choices, initial=Direction.HIGHER_IS_WORSE)
    min_value = _optional_float("Minimum")
    max_value = _optional_float("Maximum")
    baseline_delta = _optional_float(
        "Allowed change from the baseline",
        "For example 1: fail above baseline + 1 (in the metric's unit).",
    )
    baseline_ratio = _optional_float(
        "Allowed ratio to the baseline", "For example 1.2: fail above baseline × 1.2."
    )
    noise_floor = _optional_float(
        "Noise floor", "Relative breaches count only beyond this value (e.g. 200 ms)."
    )
    use_in_precheck = forms.BooleanField(
        label="Pre-deployment check: its minimum/maximum must hold before production deploys",
        required=False,
    )

    field_order = [
        "name",
        "provider",
        "url",
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
        "timeout_seconds",
        "failure_limit",
        "inconclusive_limit",
        "consecutive_error_limit",
        "is_critical",
        "enabled",
        "headers",
        "clear_headers",
    ]


class DecisionForm(forms.Form):
    action = forms.ChoiceField(choices=DecisionAction.choices)
    reason = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    extend_minutes = forms.FloatField(required=False, min_value=0.02, max_value=120)


def check_initial(check) -> dict:
    fields = MetricCheckForm.base_fields if check.kind == "metric" else HealthCheckForm.base_fields
    return {
        name: getattr(check, name) for name in fields if hasattr(check, name) and name != "headers"
    }
