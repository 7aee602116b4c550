from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.choices import InvitationStatus
from projects.choices import Role
from projects.models import Project


class Invitation(models.Model):
    """An e-mail invitation to a project with one or more roles.

    Only a SHA-256 of the link's secret is stored: the secret itself is in the
    e-mail and nowhere else. An invitation is used once (``accepted_at``).
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(max_length=254)
    roles = models.JSONField(default=list)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    send_count = models.PositiveSmallIntegerField(default=0)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["project", "email"])]

    def __str__(self) -> str:
        return f"Invitation of {self.email} to {self.project_id}"

    @property
    def status(self) -> str:
        if self.accepted_at is not None:
            return InvitationStatus.ACCEPTED
        if self.revoked_at is not None:
            return InvitationStatus.REVOKED
        if self.expires_at <= timezone.now():
            return InvitationStatus.EXPIRED
        return InvitationStatus.PENDING

    def get_status_display(self) -> str:
        return InvitationStatus(self.status).label

    @property
    def role_labels(self) -> list[str]:
        labels = dict(Role.choices)
        return [labels.get(role, role) for role in self.roles]


class GroupRoleMapping(models.Model):
    """People in the provider's ``group`` hold ``role`` in ``project`` (synced at each sign-in)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="group_mappings")
    group = models.CharField(max_length=150)
    role = models.CharField(max_length=32, choices=Role.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["group", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "group", "role"], name="group_mapping_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.group} → {self.get_role_display()}"


class ProjectSecurity(models.Model):
    """A project's sign-in rules. No row means the defaults (no second factor required)."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="security")
    require_mfa_for_approvers = models.BooleanField(
        default=False,
        help_text="Production and emergency approvals need a person who signs in with a second factor.",
    )
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Sign-in rules of {self.project_id}"
