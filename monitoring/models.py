"""What to watch per environment, and what was seen while watching a deployment.

Configuration: ``EnvironmentPolicy`` (one per environment), ``HealthCheck``
and ``MetricCheck``. Observation: a ``MonitoringWindow`` per deployment and
kind (canary, post-deploy), its ``WindowCheck`` rows (a frozen copy of each
check plus its running tally and verdict), the ``Sample`` of every poll, the
``PollGap`` rows for slots no worker took, the pre-deploy ``Baseline`` of each
metric, people's ``WindowDecision`` rows and the ``HookCall`` to the rollback
webhook. ``Precheck`` records the pre-deployment checks the production gate reads.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from monitoring.choices import (
    BaselineStatus,
    CheckKind,
    CheckVerdictStatus,
    DecisionAction,
    Direction,
    HookCallStatus,
    HttpMethod,
    MetricProvider,
    Outcome,
    RolloutState,
    SampleStatus,
    WindowKind,
    WindowStatus,
)


class EnvironmentPolicy(models.Model):
    """How deployments to one environment are watched. Absent row = the defaults below."""

    environment = models.OneToOneField(
        "projects.Environment", on_delete=models.CASCADE, related_name="monitoring_policy"
    )
    poll_interval = models.DurationField(default=timedelta(seconds=10))
    # The canary defaults come from the production deployment procedure: 1–5 % of
    # traffic for 15 minutes, then a 30–60 minute post-deploy watch.
    canary_percent = models.PositiveSmallIntegerField(default=5)
    canary_duration = models.DurationField(default=timedelta(minutes=15))
    post_deploy_duration = models.DurationField(
        default=timedelta(minutes=30), help_text="Zero: no post-deploy window in this environment."
    )
    auto_promote_canary = models.BooleanField(
        default=False,
        help_text="Proceed to full rollout as soon as the canary passes, without a person.",
    )
    rollback_hook_url = models.CharField(max_length=500, blank=True)
    # Sent as "Authorization: Bearer <secret>"; stored, never shown again.
    rollback_hook_secret = models.CharField(max_length=200, blank=True)
    tls_min_days = models.PositiveSmallIntegerField(default=14)
    precheck_max_age = models.DurationField(default=timedelta(minutes=15))
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name_plural = "environment policies"
        constraints = [
            models.CheckConstraint(
                condition=Q(canary_percent__gte=1, canary_percent__lte=100),
                name="policy_canary_percent_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Monitoring policy of {self.environment}"

    @staticmethod
    def _minutes(value: timedelta) -> str:
        minutes = value.total_seconds() / 60
        return f"{minutes:g} min" if minutes >= 1 else f"{value.total_seconds():g} s"

    @property
    def canary_duration_text(self) -> str:
        return self._minutes(self.canary_duration)

    @property
    def post_deploy_duration_text(self) -> str:
        return self._minutes(self.post_deploy_duration) if self.post_deploy_duration else "none"

    @property
    def precheck_max_age_text(self) -> str:
        return self._minutes(self.precheck_max_age)


class CheckBase(models.Model):
    environment = models.ForeignKey(
        "projects.Environment", on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField(max_length=80)
    url = models.CharField(max_length=500)
    # Header values are secrets (tokens): stored, sent, never rendered back.
    headers = models.JSONField(default=dict, blank=True)
    timeout_seconds = models.FloatField(default=5.0)
    failure_limit = models.PositiveSmallIntegerField(default=1)
    inconclusive_limit = models.PositiveSmallIntegerField(default=3)
    consecutive_error_limit = models.PositiveSmallIntegerField(default=4)
    is_critical = models.BooleanField(default=True)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def header_names(self) -> list[str]:
        return sorted(self.headers or {})


class HealthCheck(CheckBase):
    environment = models.ForeignKey(
        "projects.Environment", on_delete=models.CASCADE, related_name="health_checks"
    )
    method = models.CharField(max_length=8, choices=HttpMethod.choices, default=HttpMethod.GET)
    expected_statuses = models.CharField(max_length=60, default="200")
    json_path = models.CharField(max_length=200, blank=True)
    expected_value = models.CharField(max_length=200, blank=True)

    class Meta(CheckBase.Meta):
        constraints = [
            models.UniqueConstraint(fields=["environment", "name"], name="healthcheck_unique_name"),
        ]

    kind = CheckKind.HEALTH


class MetricCheck(CheckBase):
    environment = models.ForeignKey(
        "projects.Environment", on_delete=models.CASCADE, related_name="metric_checks"
    )
    provider = models.CharField(
        max_length=16, choices=MetricProvider.choices, default=MetricProvider.PROMETHEUS
    )
    query = models.TextField(blank=True, help_text="PromQL instant query (Prometheus).")
    json_path = models.CharField(
        max_length=200, blank=True, help_text="Path to the number (JSON endpoint)."
    )
    unit = models.CharField(max_length=16, blank=True)
    direction = models.CharField(
        max_length=20, choices=Direction.choices, default=Direction.HIGHER_IS_WORSE
    )
    min_value = models.FloatField(null=True, blank=True)
    max_value = models.FloatField(null=True, blank=True)
    baseline_delta = models.FloatField(null=True, blank=True)
    baseline_ratio = models.FloatField(null=True, blank=True)
    noise_floor = models.FloatField(null=True, blank=True)
    use_in_precheck = models.BooleanField(
        default=False,
        help_text="Its absolute bounds must hold before a production deployment (CPU, memory).",
    )

    class Meta(CheckBase.Meta):
        constraints = [
            models.UniqueConstraint(fields=["environment", "name"], name="metriccheck_unique_name"),
            models.CheckConstraint(
                condition=Q(min_value__isnull=True)
                | Q(max_value__isnull=True)
                | Q(min_value__lte=models.F("max_value")),
                name="metriccheck_min_not_above_max",
            ),
        ]

    kind = CheckKind.METRIC

    @property
    def bounds_summary(self) -> str:
        """The bounds in words, e.g. "above 5 %; above baseline × 1.2 and 200 ms"."""
        from monitoring.verdicts import fmt

        unit, worse = self.unit, "above" if self.direction == Direction.HIGHER_IS_WORSE else "below"
        parts = []
        if self.max_value is not None:
            parts.append(f"above {fmt(self.max_value, unit)}")
        if self.min_value is not None:
            parts.append(f"below {fmt(self.min_value, unit)}")
        relative = []
        if self.baseline_ratio is not None:
            relative.append(
                f"baseline {'×' if worse == 'above' else '÷'} {fmt(self.baseline_ratio)}"
            )
        if self.baseline_delta is not None:
            relative.append(
                f"baseline {'+' if worse == 'above' else '−'} {fmt(self.baseline_delta, unit)}"
            )
        if relative:
            text = f"{worse} " + " and ".join(relative)
            if self.noise_floor is not None:
                text += f" and {worse} {fmt(self.noise_floor, unit)}"
            parts.append(text)
        return "; ".join(parts) or "no bounds"


class Baseline(models.Model):
    """A metric's value just before a deployment started; relative bounds compare with it."""

    deployment = models.ForeignKey(
        "releases.Deployment", on_delete=models.CASCADE, related_name="baselines"
    )
    metric_check = models.ForeignKey(
        MetricCheck, on_delete=models.SET_NULL, null=True, related_name="baselines"
    )
    name = models.CharField(max_length=80)
    status = models.CharField(
        max_length=10, choices=BaselineStatus.choices, default=BaselineStatus.PENDING
    )
    value = models.FloatField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    taken_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["deployment", "metric_check"], name="baseline_unique_per_check"
            ),
        ]

    def __str__(self) -> str:
        return f"Baseline of {self.name}"


class MonitoringWindow(models.Model):
    deployment = models.ForeignKey(
        "releases.Deployment", on_delete=models.CASCADE, related_name="monitoring_windows"
    )
    kind = models.CharField(max_length=12, choices=WindowKind.choices)
    status = models.CharField(
        max_length=12, choices=WindowStatus.choices, default=WindowStatus.RUNNING
    )
    reason = models.TextField(blank=True)
    traffic_percent = models.PositiveSmallIntegerField(null=True, blank=True)
    rollout_state = models.CharField(max_length=20, choices=RolloutState.choices, blank=True)
    poll_interval = models.DurationField()
    started_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    # The poll schedule. ``next_slot`` counts polls since the start; a worker
    # claims slot n by moving it to n+1 with a conditional UPDATE (services/polling.py).
    next_poll_at = models.DateTimeField(null=True, blank=True)
    next_slot = models.PositiveIntegerField(default=0)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    missed_slots = models.PositiveIntegerField(default=0)
    extensions = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["deployment", "kind"], name="window_one_per_kind"),
        ]
        indexes = [models.Index(fields=["status", "next_poll_at"])]

    def __str__(self) -> str:
        # Read when an audit event is written (its object_repr), once per change of state.
        deployment = self.deployment
        return (
            f"{self.get_kind_display()} window of {deployment.release.version} "
            f"in {deployment.environment}"
        )

    def get_absolute_url(self) -> str:
        return reverse("monitoring:window", args=[self.pk])

    def slot_time(self, slot: int) -> datetime:
        """When poll ``slot`` of this window is due: ``slot`` intervals after the start."""
        return self.started_at + self.poll_interval * slot


class WindowCheck(models.Model):
    """One check as watched in one window: its settings at the start, its tally and verdict."""

    window = models.ForeignKey(MonitoringWindow, on_delete=models.CASCADE, related_name="checks")
    kind = models.CharField(max_length=8, choices=CheckKind.choices)
    health_check = models.ForeignKey(
        HealthCheck, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    metric_check = models.ForeignKey(
        MetricCheck, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    baseline = models.ForeignKey(
        Baseline, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    name = models.CharField(max_length=80)
    position = models.PositiveSmallIntegerField(default=0)
    # The check's settings when the window opened (headers excluded: they are read live).
    config = models.JSONField(default=dict)
    is_critical = models.BooleanField(default=True)
    status = models.CharField(
        max_length=12, choices=CheckVerdictStatus.choices, default=CheckVerdictStatus.RUNNING
    )
    reason = models.TextField(blank=True)
    passes = models.PositiveIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)
    inconclusives = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    consecutive_errors = models.PositiveIntegerField(default=0)
    last_detail = models.CharField(max_length=300, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    # The outcome of the newest reading (an ``Outcome``), so a check that passed overall can
    # still say that its last reading breached.
    last_outcome = models.CharField(max_length=12, blank=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class Sample(models.Model):
    window_check = models.ForeignKey(WindowCheck, on_delete=models.CASCADE, related_name="samples")
    slot = models.PositiveIntegerField()
    taken_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=SampleStatus.choices)
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    value = models.FloatField(null=True, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.FloatField(null=True, blank=True)
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["slot"]
        constraints = [
            # A slot is claimed once; this makes a second write of it impossible too.
            models.UniqueConstraint(fields=["window_check", "slot"], name="sample_one_per_slot"),
        ]

    def __str__(self) -> str:
        return f"{self.window_check} #{self.slot}: {self.status}"


class PollGap(models.Model):
    """Slots that passed with no worker to take them (a restart, an outage of the workers)."""

    window = models.ForeignKey(MonitoringWindow, on_delete=models.CASCADE, related_name="gaps")
    first_slot = models.PositiveIntegerField()
    last_slot = models.PositiveIntegerField()
    from_time = models.DateTimeField()
    to_time = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["first_slot"]

    def __str__(self) -> str:
        return f"Gap of {self.slots} polls in window {self.window_id}"

    @property
    def slots(self) -> int:
        return self.last_slot - self.first_slot + 1


class WindowDecision(models.Model):
    window = models.ForeignKey(MonitoringWindow, on_delete=models.CASCADE, related_name="decisions")
    action = models.CharField(max_length=10, choices=DecisionAction.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    extend_by = models.DurationField(null=True, blank=True)
    from_status = models.CharField(max_length=12)
    to_status = models.CharField(max_length=12)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} by {self.actor}"


class HookCall(models.Model):
    """The one call of an environment's rollback webhook for a deployment."""

    deployment = models.ForeignKey(
        "releases.Deployment", on_delete=models.CASCADE, related_name="hook_calls"
    )
    window = models.ForeignKey(
        MonitoringWindow,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="hook_calls",
    )
    purpose = models.CharField(max_length=16, default="rollback")
    idempotency_key = models.CharField(max_length=80, unique=True)
    url = models.CharField(max_length=500)
    status = models.CharField(
        max_length=10, choices=HookCallStatus.choices, default=HookCallStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Exactly one rollback call per deployment, whoever asks and however often.
            models.UniqueConstraint(
                fields=["deployment", "purpose"], name="hookcall_once_per_deployment"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} hook for deployment {self.deployment_id}: {self.status}"


class Precheck(models.Model):
    """One run of the pre-deployment checks of an environment; the production gate reads the latest."""

    environment = models.ForeignKey(
        "projects.Environment", on_delete=models.CASCADE, related_name="prechecks"
    )
    passed = models.BooleanField(default=False)
    results = models.JSONField(default=list)
    summary = models.TextField(blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    triggered_by_label = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-finished_at", "-id"]
        indexes = [models.Index(fields=["environment", "-finished_at"])]

    def __str__(self) -> str:
        return f"Precheck of {self.environment}: {'passed' if self.passed else 'failed'}"
