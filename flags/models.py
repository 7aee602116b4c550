"""Feature flags, the SDK keys that read them, rollout plans and their steps.

``Flag``: a boolean flag per environment with a gradual rollout (Unleash's
flexibleRollout semantics, ``flags.bucketing``). ``SdkKey``: a per-environment
key applications send to the OFREP and Unleash client endpoints (only a
SHA-256 is stored). ``FlagSystem``: an environment's external flag service
(Unleash Admin API). ``RolloutPlan`` and ``RolloutStep``: a release's gradual
rollout of one flag, each step watched by the environment's monitoring checks.
``PlanHookCall``: the one call of a plan's rollback hook.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse

from flags.choices import FlagSource, HookStatus, PlanStatus, StepStatus, Stickiness


class Flag(models.Model):
    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="+")
    environment = models.ForeignKey(
        "projects.Environment", on_delete=models.CASCADE, related_name="flags"
    )
    key = models.SlugField(max_length=100)
    description = models.CharField(max_length=300, blank=True)
    enabled = models.BooleanField(default=False)
    rollout = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)])
    stickiness = models.CharField(
        max_length=12, choices=Stickiness.choices, default=Stickiness.USER_ID
    )
    # Blank: the flag's key, as in Unleash.
    group_id = models.CharField(max_length=100, blank=True)
    beta_testers = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]
        constraints = [
            models.UniqueConstraint(fields=["environment", "key"], name="flag_unique_key"),
            models.CheckConstraint(condition=Q(rollout__lte=100), name="flag_rollout_range"),
        ]

    def __str__(self) -> str:
        return f"{self.key} in {self.environment.name}"

    @property
    def effective_group_id(self) -> str:
        return self.group_id or self.key


class SdkKey(models.Model):
    environment = models.ForeignKey(
        "projects.Environment", on_delete=models.CASCADE, related_name="flag_sdk_keys"
    )
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class FlagSystem(models.Model):
    """An environment's own flag service; plans on external flags drive it."""

    environment = models.OneToOneField(
        "projects.Environment", on_delete=models.CASCADE, related_name="flag_system"
    )
    kind = models.CharField(max_length=12, choices=FlagSource.choices, default=FlagSource.UNLEASH)
    base_url = models.CharField(max_length=500, help_text="e.g. https://unleash.example.com")
    unleash_project = models.CharField(max_length=100, default="default")
    unleash_environment = models.CharField(max_length=100, default="production")
    # An Admin API token: stored, sent as Authorization, never shown again.
    token = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.environment}"


class RolloutPlan(models.Model):
    release = models.ForeignKey(
        "releases.Release", on_delete=models.CASCADE, related_name="flag_plans"
    )
    environment = models.ForeignKey(
        "projects.Environment", on_delete=models.CASCADE, related_name="+"
    )
    source = models.CharField(
        max_length=12, choices=FlagSource.choices, default=FlagSource.SHIPCHECK
    )
    flag = models.ForeignKey(
        Flag, on_delete=models.PROTECT, null=True, blank=True, related_name="plans"
    )
    # The flag's name in the external system (source unleash).
    flag_key = models.CharField(max_length=100)
    status = models.CharField(max_length=12, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    reason = models.TextField(blank=True)
    auto_advance = models.BooleanField(
        default=True, help_text="Move to the next step by itself once a step passed its hold time."
    )
    disable_on_fail = models.BooleanField(
        default=True, help_text="Set the flag to 0 % at once when a step fails."
    )
    # Names of the environment's checks that watch each step; empty: every enabled check.
    check_names = models.JSONField(default=list, blank=True)
    rollback_hook_url = models.CharField(max_length=500, blank=True)
    # Sent as "Authorization: Bearer <secret>"; stored, never shown again.
    rollback_hook_secret = models.CharField(max_length=200, blank=True)
    current_position = models.SmallIntegerField(default=-1)
    current_percent = models.PositiveSmallIntegerField(default=0)
    # What Shipcheck last set on an external system, and what it read back when they differ.
    last_set_percent = models.SmallIntegerField(null=True, blank=True)
    drift = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Rollout of {self.flag_key} in {self.environment.name}"

    def get_absolute_url(self) -> str:
        return reverse("releases:detail", args=[self.release_id]) + f"#flag-plan-{self.pk}"


class RolloutStep(models.Model):
    plan = models.ForeignKey(RolloutPlan, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    percent = models.PositiveSmallIntegerField(validators=[MaxValueValidator(100)])
    hold = models.DurationField(default=timedelta(days=7))
    status = models.CharField(max_length=14, choices=StepStatus.choices, default=StepStatus.PENDING)
    reason = models.TextField(blank=True)
    # Set once, by the conditional UPDATE that applies the step's percentage.
    applied_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    poll_interval = models.DurationField(default=timedelta(seconds=10))
    next_poll_at = models.DateTimeField(null=True, blank=True)
    next_slot = models.PositiveIntegerField(default=0)
    # Each watching check: name, kind, config (frozen at the start), critical, tally, verdict.
    checks = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["plan_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "position"], name="step_unique_position"),
            models.CheckConstraint(condition=Q(percent__lte=100), name="step_percent_range"),
        ]
        indexes = [models.Index(fields=["status", "next_poll_at"])]

    def __str__(self) -> str:
        return f"Step {self.position + 1} ({self.percent} %)"


class PlanHookCall(models.Model):
    """The one call of a plan's rollback hook, however often a failure is seen."""

    plan = models.OneToOneField(RolloutPlan, on_delete=models.CASCADE, related_name="hook_call")
    url = models.CharField(max_length=500)
    idempotency_key = models.CharField(max_length=80, unique=True)
    status = models.CharField(max_length=10, choices=HookStatus.choices, default=HookStatus.PENDING)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Rollback hook of plan {self.plan_id}: {self.status}"
