"""Deploy windows, freezes, overrides, the promotion queue, schedules and feed tokens.

Windows and freezes store what an iCalendar VEVENT says, so they round-trip without loss:
``start``/``end`` are wall-clock times (ISO, no offset) in ``time_zone`` (DTSTART/DTEND with
a TZID), ``rrule`` the RRULE value, ``exdates`` wall-clock EXDATEs. ``deploycalendar.rules``
evaluates them.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models

from deploycalendar.choices import QueueStatus, WindowKind
from deploycalendar.rules import TimeRule


class TimeRuleFields(models.Model):
    start = models.CharField(max_length=19, help_text="Wall-clock start, YYYY-MM-DDTHH:MM.")
    end = models.CharField(max_length=19, help_text="Wall-clock end (exclusive).")
    time_zone = models.CharField(max_length=64, help_text="IANA zone, e.g. Europe/Berlin.")
    rrule = models.CharField(max_length=300, blank=True, help_text="RFC 5545 RRULE value.")
    exdates = models.JSONField(default=list, blank=True, help_text="Wall-clock starts skipped.")
    sequence = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    def as_rule(self) -> TimeRule:
        return TimeRule(
            start=datetime.fromisoformat(self.start),
            end=datetime.fromisoformat(self.end),
            tz=self.time_zone,
            rrule=self.rrule,
            exdates=tuple(datetime.fromisoformat(d) for d in self.exdates),
        )


class DeployWindow(TimeRuleFields):
    """When ``environment`` takes deployments; none configured means no restriction."""

    environment = models.ForeignKey(
        "projects.Environment", on_delete=models.CASCADE, related_name="deploy_windows"
    )
    kind = models.CharField(max_length=16, choices=WindowKind.choices, default=WindowKind.ALLOWED)
    name = models.CharField(max_length=120)
    # Release types that may enter only inside a maintenance window (maintenance kind only).
    release_types = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["environment_id", "kind", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.environment})"


class Freeze(TimeRuleFields):
    """No deployments into ``environment`` while it holds.

    Organisation-wide (``environment`` empty): set by a site administrator, it holds for the
    production environments of every project.
    """

    environment = models.ForeignKey(
        "projects.Environment",
        on_delete=models.CASCADE,
        related_name="freezes",
        null=True,
        blank=True,
    )
    name = models.CharField(max_length=120)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    @property
    def organisation_wide(self) -> bool:
        return self.environment_id is None


class Override(models.Model):
    """A permitted person lets one release into one environment through windows and freezes."""

    release = models.ForeignKey(
        "releases.Release", on_delete=models.CASCADE, related_name="calendar_overrides"
    )
    environment = models.ForeignKey(
        "projects.Environment", on_delete=models.CASCADE, related_name="calendar_overrides"
    )
    reason = models.TextField()
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["release", "environment"], name="calendar_override_once"
            )
        ]

    def __str__(self) -> str:
        return f"Override of {self.release} into {self.environment}"


class QueuedPromotion(models.Model):
    """A promotion blocked only by time, started by a worker when the window opens."""

    release = models.ForeignKey(
        "releases.Release", on_delete=models.CASCADE, related_name="queued_promotions"
    )
    environment = models.ForeignKey(
        "projects.Environment", on_delete=models.CASCADE, related_name="queued_promotions"
    )
    status = models.CharField(
        max_length=16, choices=QueueStatus.choices, default=QueueStatus.WAITING
    )
    not_before = models.DateTimeField(help_text="When the window opens.")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    deployment = models.ForeignKey(
        "releases.Deployment", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    outcome = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["not_before", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["release", "environment"],
                condition=models.Q(status__in=["waiting", "starting"]),
                name="calendar_queue_one_waiting",
            )
        ]
        indexes = [models.Index(fields=["status", "not_before"])]

    def __str__(self) -> str:
        return f"{self.release} into {self.environment} ({self.status})"


class FeedToken(models.Model):
    """A person's secret feed URL (calendar programs cannot sign in); only its hash is kept."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed_tokens"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Calendar feed of {self.user}"


class ScheduledDeployment(models.Model):
    """When a release is planned to enter an environment (one plan per release and environment)."""

    release = models.ForeignKey(
        "releases.Release", on_delete=models.CASCADE, related_name="scheduled_deployments"
    )
    environment = models.ForeignKey(
        "projects.Environment", on_delete=models.CASCADE, related_name="scheduled_deployments"
    )
    planned_at = models.DateTimeField()
    reminded_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["planned_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["release", "environment"], name="calendar_plan_once")
        ]
        indexes = [models.Index(fields=["planned_at"])]

    def __str__(self) -> str:
        return f"{self.release} into {self.environment} at {self.planned_at:%Y-%m-%d %H:%M}"


class FreezeViolation(models.Model):
    """A pipeline reported a deployment into an environment while a freeze held: kept, flagged."""

    release = models.ForeignKey(
        "releases.Release", on_delete=models.CASCADE, related_name="freeze_violations"
    )
    environment = models.ForeignKey(
        "projects.Environment", on_delete=models.CASCADE, related_name="freeze_violations"
    )
    freeze_name = models.CharField(max_length=120)
    reason = models.TextField(help_text="What the gate said when the report came in.")
    reported_by = models.CharField(
        max_length=200, help_text="The token or person that reported it."
    )
    reported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-reported_at", "-id"]

    def __str__(self) -> str:
        return f"Freeze violation: {self.release} into {self.environment}"
