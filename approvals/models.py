"""Approval policies, approval records, the emergency path and go/no-go meetings."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from approvals.choices import (
    DEFAULT_APPROVER_ROLES,
    PRODUCTION_REQUIRED_APPROVALS,
    ApprovalKind,
    ApprovalState,
    CriterionKind,
    Decision,
    MeetingDecision,
    MeetingStatus,
    Seat,
    Vote,
)


class ApprovalPolicy(models.Model):
    """What an environment asks for before a release may enter it.

    Environments without a saved row use ``ApprovalPolicy.default_for`` (not
    saved until an admin edits it), so projects need no set-up step.
    """

    environment = models.OneToOneField(
        "projects.Environment", on_delete=models.CASCADE, related_name="approval_policy"
    )
    required_approvals = models.PositiveSmallIntegerField(
        default=0,
        help_text="Deployment approvals from different people needed to enter this environment.",
    )
    approver_roles = models.JSONField(
        default=list, help_text="Project roles whose holders may give deployment approvals."
    )
    requires_qa_signoff = models.BooleanField(
        default=False, help_text="QA must sign off the release in the previous environment."
    )
    requires_scope_approval = models.BooleanField(
        default=False, help_text="The product owner must approve the release's scope."
    )
    requires_go_no_go = models.BooleanField(
        default=False, help_text="A go/no-go meeting must decide 'go' for this release version."
    )
    approval_valid_hours = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Approvals older than this no longer count (empty: they never expire).",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "approval policies"
        constraints = [
            models.CheckConstraint(
                condition=Q(required_approvals__lte=10), name="approval_policy_max_approvals"
            ),
            models.CheckConstraint(
                condition=Q(approval_valid_hours__isnull=True) | Q(approval_valid_hours__gte=1),
                name="approval_policy_expiry_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"Approval policy of {self.environment}"

    @classmethod
    def default_for(cls, environment) -> ApprovalPolicy:
        """The unsaved default: production asks for everything, other environments for nothing."""
        production = environment.is_production
        return cls(
            environment=environment,
            required_approvals=PRODUCTION_REQUIRED_APPROVALS if production else 0,
            approver_roles=[str(r) for r in DEFAULT_APPROVER_ROLES],
            requires_qa_signoff=production,
            requires_scope_approval=production,
            requires_go_no_go=production,
            approval_valid_hours=None,
        )

    @property
    def is_saved(self) -> bool:
        return self.pk is not None

    @property
    def asks_anything(self) -> bool:
        return bool(
            self.required_approvals
            or self.requires_qa_signoff
            or self.requires_scope_approval
            or self.requires_go_no_go
        )


class ApprovalRequest(models.Model):
    """Someone asked for a kind of decision; the eligible people were told.

    A new request sets aside the active rejections it answers (they become
    *superseded*), so a rejection blocks until withdrawn or re-requested.
    """

    release = models.ForeignKey(
        "releases.Release", on_delete=models.CASCADE, related_name="approval_requests"
    )
    environment = models.ForeignKey(
        "projects.Environment", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=ApprovalKind.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requested_by_label = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["release", "kind", "environment", "-created_at"])]

    def __str__(self) -> str:
        where = f" for {self.environment}" if self.environment_id else ""
        return f"{self.get_kind_display()}{where} of {self.release.version} requested"


class Approval(models.Model):
    """One person's decision on one kind of approval for a release (and environment).

    ``environment`` is the environment the decision is about: the target of a
    deployment or emergency approval, the environment QA tested in for a QA
    sign-off, and empty for a scope approval (it covers the whole release).
    """

    release = models.ForeignKey(
        "releases.Release", on_delete=models.CASCADE, related_name="approvals"
    )
    environment = models.ForeignKey(
        "projects.Environment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="approvals",
    )
    kind = models.CharField(max_length=16, choices=ApprovalKind.choices)
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="approvals"
    )
    role = models.CharField(max_length=32, help_text="The project role the person acted in.")
    decision = models.CharField(max_length=8, choices=Decision.choices)
    comment = models.TextField(
        blank=True, help_text="Required to reject; the justification of an emergency."
    )
    state = models.CharField(
        max_length=16, choices=ApprovalState.choices, default=ApprovalState.ACTIVE
    )
    state_reason = models.TextField(blank=True, help_text="Why it stopped being active.")
    state_changed_at = models.DateTimeField(null=True, blank=True)
    # What the decision was given for, so history shows it after the release changes.
    release_version = models.CharField(max_length=64)
    artifact_version = models.CharField(max_length=120, blank=True)
    commit_sha = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Not a column: ``approval_decide`` sets it, True when the same decision was given again.
    repeat: bool = False

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # One live decision per person, kind, environment and release. Withdrawn,
            # invalidated, superseded and expired rows stay as history and free the slot.
            models.UniqueConstraint(
                fields=["release", "kind", "environment", "person"],
                condition=Q(state="active", environment__isnull=False),
                name="approval_one_active_decision",
            ),
            # Scope approvals have no environment; NULLs never collide in a unique index.
            models.UniqueConstraint(
                fields=["release", "kind", "person"],
                condition=Q(state="active", environment__isnull=True),
                name="approval_one_active_release_decision",
            ),
            models.CheckConstraint(
                condition=~Q(decision="reject") | ~Q(comment=""),
                name="approval_rejection_has_comment",
            ),
            models.CheckConstraint(
                condition=(Q(kind="scope") & Q(environment__isnull=True))
                | (~Q(kind="scope") & Q(environment__isnull=False)),
                name="approval_environment_matches_kind",
            ),
        ]
        indexes = [
            models.Index(fields=["release", "state"]),
            models.Index(fields=["person", "state"]),
        ]

    def __str__(self) -> str:
        where = f" · {self.environment}" if self.environment_id else ""
        return f"{self.get_kind_display()}{where} · {self.release_version} · {self.get_decision_display()}"

    @property
    def is_active(self) -> bool:
        return self.state == ApprovalState.ACTIVE

    def expires_at(self, policy: ApprovalPolicy | None):
        if policy is None or not policy.approval_valid_hours:
            return None
        return self.created_at + timedelta(hours=policy.approval_valid_hours)

    def is_expired(self, policy: ApprovalPolicy | None, now=None) -> bool:
        """Only approvals expire; a rejection blocks until withdrawn or re-requested."""
        if self.decision != Decision.APPROVE:
            return False
        expires = self.expires_at(policy)
        return expires is not None and expires <= (now or timezone.now())


class EmergencyReview(models.Model):
    """The post-implementation review an emergency release owes, due 48 hours after approval."""

    release = models.OneToOneField(
        "releases.Release", on_delete=models.CASCADE, related_name="emergency_review"
    )
    approval = models.ForeignKey(Approval, on_delete=models.PROTECT, related_name="+")
    due_at = models.DateTimeField()
    summary = models.TextField(blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Set once the overdue reminder went out, so the periodic task reminds once.
    overdue_notified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_at"]
        indexes = [models.Index(fields=["completed_at", "due_at"])]

    def __str__(self) -> str:
        return f"Post-implementation review of {self.release.version}"

    @property
    def is_done(self) -> bool:
        return self.completed_at is not None

    def is_overdue(self, now=None) -> bool:
        return self.completed_at is None and self.due_at <= (now or timezone.now())


class GoNoGoMeeting(models.Model):
    release = models.ForeignKey(
        "releases.Release", on_delete=models.CASCADE, related_name="go_no_go_meetings"
    )
    environment = models.ForeignKey(
        "projects.Environment", on_delete=models.PROTECT, related_name="+"
    )
    scheduled_for = models.DateTimeField()
    security_sensitive = models.BooleanField(default=False)
    status = models.CharField(
        max_length=16, choices=MeetingStatus.choices, default=MeetingStatus.SCHEDULED
    )
    decision = models.CharField(max_length=8, choices=MeetingDecision.choices, blank=True)
    decision_reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # A "go" holds for exactly this version and artifact of the release.
    decided_version = models.CharField(max_length=64, blank=True)
    decided_artifact_version = models.CharField(max_length=120, blank=True)
    decided_commit_sha = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-scheduled_for", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["release", "environment"],
                condition=Q(status="scheduled"),
                name="meeting_one_scheduled_per_environment",
            ),
            models.CheckConstraint(
                condition=(Q(status="decided") & ~Q(decision=""))
                | (~Q(status="decided") & Q(decision="")),
                name="meeting_decision_iff_decided",
            ),
        ]
        indexes = [models.Index(fields=["release", "environment", "status"])]

    def __str__(self) -> str:
        return f"Go/no-go for {self.release.version} → {self.environment}"

    def get_absolute_url(self) -> str:
        return reverse("approvals:meeting", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status == MeetingStatus.SCHEDULED

    def holds_for(self, release) -> bool:
        """A 'go' counts only for the release version and artifact it was decided for."""
        return (
            self.decision == MeetingDecision.GO
            and self.decided_version == release.version
            and self.decided_artifact_version == (release.artifact_version or "")
            and self.decided_commit_sha == (release.commit_sha or "")
        )


class MeetingAttendee(models.Model):
    meeting = models.ForeignKey(GoNoGoMeeting, on_delete=models.CASCADE, related_name="attendees")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    seat = models.CharField(max_length=20, choices=Seat.choices)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "person"], name="meeting_attendee_once")
        ]

    def __str__(self) -> str:
        return f"{self.person} ({self.get_seat_display()})"


class AgendaItem(models.Model):
    meeting = models.ForeignKey(GoNoGoMeeting, on_delete=models.CASCADE, related_name="agenda")
    position = models.PositiveSmallIntegerField()
    key = models.CharField(max_length=32)
    title = models.CharField(max_length=200)
    notes = models.TextField(blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "position"], name="agenda_item_position")
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.title}"


class MeetingCriterion(models.Model):
    """A go criterion or a no-go trigger.

    ``checked`` means *met* for a go criterion and *raised* for a trigger;
    None means nobody has judged it yet. Criteria with an ``auto_key`` are
    computed from the release while the meeting runs and frozen at the decision.
    """

    meeting = models.ForeignKey(GoNoGoMeeting, on_delete=models.CASCADE, related_name="criteria")
    kind = models.CharField(max_length=16, choices=CriterionKind.choices)
    title = models.CharField(max_length=200)
    auto_key = models.CharField(max_length=32, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    checked = models.BooleanField(null=True, blank=True)
    note = models.TextField(blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["kind", "position", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_auto(self) -> bool:
        return bool(self.auto_key)


class MeetingVote(models.Model):
    meeting = models.ForeignKey(GoNoGoMeeting, on_delete=models.CASCADE, related_name="votes")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    vote = models.CharField(max_length=8, choices=Vote.choices)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "person"], name="meeting_vote_once"),
            models.CheckConstraint(
                condition=~Q(vote="no_go") | ~Q(comment=""), name="meeting_no_go_has_comment"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person}: {self.get_vote_display()}"
