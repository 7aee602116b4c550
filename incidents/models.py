"""Incidents and the defects that escaped to production.

The fields here are what other apps read (``metrics`` computes change fail rate,
recovery time and bug escape rate from them); this app adds what it needs
beside them.
"""

from django.conf import settings
from django.db import models


class Severity(models.IntegerChoices):
    SEV1 = 1, "SEV1 (critical)"
    SEV2 = 2, "SEV2 (major)"
    SEV3 = 3, "SEV3 (minor)"
    SEV4 = 4, "SEV4 (low)"


class IncidentState(models.TextChoices):
    INVESTIGATING = "investigating", "Investigating"
    IDENTIFIED = "identified", "Identified"
    MONITORING = "monitoring", "Monitoring"
    RESOLVED = "resolved", "Resolved"


class Incident(models.Model):
    project = models.ForeignKey(
        "projects.Project", on_delete=models.PROTECT, related_name="incidents"
    )
    environment = models.ForeignKey(
        "projects.Environment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incidents",
    )
    title = models.CharField(max_length=200)
    severity = models.PositiveSmallIntegerField(choices=Severity.choices)
    state = models.CharField(
        max_length=16, choices=IncidentState.choices, default=IncidentState.INVESTIGATING
    )
    impact = models.TextField(blank=True)
    started_at = models.DateTimeField()
    detected_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # The production deployment (and its release) suspected as the cause.
    cause_deployment = models.ForeignKey(
        "releases.Deployment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="caused_incidents",
    )
    cause_release = models.ForeignKey(
        "releases.Release",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="caused_incidents",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["project", "-started_at"]),
            models.Index(fields=["project", "state"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_severity_display().split(' ')[0]}: {self.title}"


class EscapedDefect(models.Model):
    """A defect found in production after a release shipped it (QA reopens the ticket)."""

    release = models.ForeignKey(
        "releases.Release", on_delete=models.CASCADE, related_name="escaped_defects"
    )
    ticket = models.ForeignKey(
        "releases.Ticket",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="escaped_defects",
    )
    key = models.CharField(max_length=64)
    title = models.CharField(max_length=300, blank=True)
    severity = models.PositiveSmallIntegerField(choices=Severity.choices)
    found_at = models.DateTimeField()
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-found_at", "-id"]

    def __str__(self) -> str:
        return f"{self.key} escaped in {self.release_id}"
