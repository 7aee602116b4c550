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


# --- What this app adds beside the fields other apps read -------------------------------


class MitigationChoice(models.TextChoices):
    ROLLBACK = "rollback", "Roll back"
    FIX_FORWARD = "fix_forward", "Fix forward"


class IncidentDetails(models.Model):
    """The incident's response: commander, responders, mitigation, hotfix, update cadence.

    Kept in its own row so that ``Incident`` stays exactly what ``metrics`` reads.
    ``hotfix_release`` is the rework link: a release started from the incident to fix it.
    """

    incident = models.OneToOneField(Incident, on_delete=models.CASCADE, related_name="details")
    commander = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="commanded_incidents",
    )
    responders = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="responded_incidents"
    )
    # True when Shipcheck proposed the cause (the last production deployment before the start).
    cause_proposed = models.BooleanField(default=False)
    # The failed monitoring window the incident was opened from, if any.
    monitoring_window = models.ForeignKey(
        "monitoring.MonitoringWindow",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="incidents",
    )
    mitigation = models.CharField(max_length=16, choices=MitigationChoice.choices, blank=True)
    mitigation_reason = models.TextField(blank=True)
    # Codes of the rollback criteria ticked (incidents.choices.ROLLBACK_CRITERIA).
    rollback_criteria = models.JSONField(default=list, blank=True)
    mitigation_decided_at = models.DateTimeField(null=True, blank=True)
    mitigation_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The hotfix release started from this incident: rework, for the metrics.
    hotfix_release = models.ForeignKey(
        "releases.Release",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="hotfix_for_incidents",
    )
    last_update_at = models.DateTimeField(null=True, blank=True)
    # When the commander was last reminded that an update is due (one reminder per interval).
    update_reminded_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"details of incident {self.incident_id}"


class StatusUpdate(models.Model):
    """One status update, written from the project's template and announced."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="updates")
    state = models.CharField(max_length=16, choices=IncidentState.choices)
    impact = models.TextField(blank=True)
    actions_taken = models.TextField(blank=True)
    next_steps = models.TextField(blank=True)
    # The message as sent, rendered from the project's template.
    body = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    author_label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"update on incident {self.incident_id} ({self.state})"


class TimelineEntry(models.Model):
    """An entry a person added to the timeline (automatic ones come from the audit trail)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="entries")
    at = models.DateTimeField()
    text = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    author_label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"entry at {self.at:%Y-%m-%d %H:%M}"


class IncidentSettings(models.Model):
    """A project's status-update template and update cadence."""

    project = models.OneToOneField(
        "projects.Project", on_delete=models.CASCADE, related_name="incident_settings"
    )
    status_template = models.TextField()
    update_interval_minutes = models.PositiveIntegerField(default=20)

    def __str__(self) -> str:
        return f"incident settings of {self.project_id}"


class PostMortemKind(models.TextChoices):
    INCIDENT = "incident", "Incident post-mortem"
    ROLLBACK = "rollback", "Production rollback post-mortem"
    EMERGENCY = "emergency", "Emergency release post-mortem"
    RETROSPECTIVE = "retrospective", "Release retrospective"


class PostMortemState(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    REVIEWED = "reviewed", "Reviewed"
    CLOSED = "closed", "Closed"


class PostMortem(models.Model):
    """A blameless post-mortem (or a release retrospective, with the same structure)."""

    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="postmortems"
    )
    kind = models.CharField(max_length=16, choices=PostMortemKind.choices)
    incident = models.OneToOneField(
        Incident, on_delete=models.CASCADE, null=True, blank=True, related_name="postmortem"
    )
    release = models.ForeignKey(
        "releases.Release",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="postmortems",
    )
    deployment = models.ForeignKey(
        "releases.Deployment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="postmortems",
    )
    emergency_review = models.ForeignKey(
        "approvals.EmergencyReview",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="postmortems",
    )
    title = models.CharField(max_length=200)
    state = models.CharField(
        max_length=16, choices=PostMortemState.choices, default=PostMortemState.DRAFT
    )
    due_on = models.DateField(null=True, blank=True)
    summary = models.TextField(blank=True)
    impact = models.TextField(blank=True)
    root_causes = models.TextField(blank=True)
    trigger = models.TextField(blank=True)
    resolution = models.TextField(blank=True)
    detection = models.TextField(blank=True)
    went_well = models.TextField(blank=True)
    went_wrong = models.TextField(blank=True)
    got_lucky = models.TextField(blank=True)
    timeline_notes = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["deployment", "kind"],
                condition=models.Q(deployment__isnull=False),
                name="postmortem_one_per_deployment_kind",
            ),
            models.UniqueConstraint(
                fields=["release", "kind"],
                condition=models.Q(kind__in=["emergency", "retrospective"]),
                name="postmortem_one_per_release_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class ActionItem(models.Model):
    postmortem = models.ForeignKey(PostMortem, on_delete=models.CASCADE, related_name="items")
    title = models.CharField(max_length=300)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="incident_action_items"
    )
    due_on = models.DateField()
    ticket_key = models.CharField(max_length=64, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["owner", "done_at", "due_on"])]

    def __str__(self) -> str:
        return self.title


class TicketCheck(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed on production"
    REOPENED = "reopened", "Reopened (escaped defect)"


class TicketConfirmation(models.Model):
    """QA's verdict on one ticket of a released release, on production."""

    ticket = models.OneToOneField(
        "releases.Ticket", on_delete=models.CASCADE, related_name="production_check"
    )
    release = models.ForeignKey(
        "releases.Release", on_delete=models.CASCADE, related_name="ticket_checks"
    )
    result = models.CharField(max_length=16, choices=TicketCheck.choices)
    note = models.TextField(blank=True)
    escaped_defect = models.OneToOneField(
        EscapedDefect, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    checked_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.result}"


class ReleaseClosure(models.Model):
    """A release closed after production: QA confirmed it, results sent, summary written."""

    release = models.OneToOneField(
        "releases.Release", on_delete=models.CASCADE, related_name="closure"
    )
    summary = models.TextField()
    results_sent_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"closure of {self.release_id}"
