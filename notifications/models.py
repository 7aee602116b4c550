"""Who hears what (subscribers, channels, preferences, templates) and the delivery outbox."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from notifications.choices import (
    AUDIENCE_CHOICES,
    ChannelKind,
    DeliveryStatus,
    PreferenceMode,
)


class Subscriber(models.Model):
    """A person or a plain address in one of a project's subscriber groups."""

    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="notification_subscribers"
    )
    audience = models.CharField(max_length=20, choices=AUDIENCE_CHOICES)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notification_subscriptions",
    )
    email = models.EmailField(blank=True)
    name = models.CharField(max_length=120, blank=True)
    # Set by the one-click unsubscribe link: no more e-mail to this row.
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["audience", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "audience", "user"],
                condition=Q(user__isnull=False),
                name="notify_subscriber_person_once",
            ),
            models.UniqueConstraint(
                fields=["project", "audience", "email"],
                condition=Q(user__isnull=True),
                name="notify_subscriber_address_once",
            ),
            models.CheckConstraint(
                condition=Q(user__isnull=False) | ~Q(email=""),
                name="notify_subscriber_person_or_address",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.audience})"

    @property
    def address(self) -> str:
        return self.user.email if self.user_id and self.user else self.email

    @property
    def label(self) -> str:
        if self.user_id and self.user:
            return self.user.get_full_name() or self.user.username
        return self.name or self.email


class Channel(models.Model):
    """Where a project's events go: e-mail to its groups, Slack, Teams or a signed webhook."""

    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="notification_channels"
    )
    kind = models.CharField(max_length=10, choices=ChannelKind.choices)
    name = models.CharField(max_length=80)
    url = models.CharField(max_length=500, blank=True)
    # Signing secret of a generic webhook: stored, used to sign, never shown again
    # (as monitoring stores its rollback hook secret).
    secret = models.CharField(max_length=200, blank=True)
    # The subscriber groups whose events this channel carries.
    audiences = models.JSONField(default=list)
    # Only these event keys (empty: every event of those groups).
    event_keys = models.JSONField(default=list, blank=True)
    # The release channel: urgent events (an emergency deployment) come here at once,
    # whatever its groups.
    is_release_channel = models.BooleanField(default=False)
    enabled = models.BooleanField(default=True)
    disabled_reason = models.TextField(blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="notify_channel_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class Preference(models.Model):
    """How one person hears one event (or, with an empty key, every event) of one project."""

    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="notification_preferences"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    event_key = models.CharField(max_length=80, blank=True)
    mode = models.CharField(max_length=10, choices=PreferenceMode.choices)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["event_key"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "user", "event_key"], name="notify_preference_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.event_key or 'every event'}: {self.mode}"


class MessageTemplate(models.Model):
    """A project's wording of one event on one kind of channel (sandboxed Django template)."""

    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="notification_templates"
    )
    event_key = models.CharField(max_length=80)
    channel_kind = models.CharField(max_length=10, choices=ChannelKind.choices)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["event_key", "channel_kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "event_key", "channel_kind"], name="notify_template_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_key} · {self.channel_kind}"


class Delivery(models.Model):
    """One (event, destination) row of the outbox, written in the event's transaction.

    ``uid`` is the stable delivery id receivers deduplicate on: every attempt of this
    row sends the same one. A worker claims the row with a conditional UPDATE and holds
    it until ``claimed_until``; a row whose worker died is taken again after that.
    """

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event_id = models.UUIDField(db_index=True)
    event_key = models.CharField(max_length=80)
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="notification_deliveries"
    )
    release = models.ForeignKey(
        "releases.Release",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notification_deliveries",
    )
    channel = models.ForeignKey(
        Channel, on_delete=models.SET_NULL, null=True, blank=True, related_name="deliveries"
    )
    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.SET_NULL, null=True, blank=True, related_name="deliveries"
    )
    kind = models.CharField(max_length=10, choices=ChannelKind.choices)
    # Who or where, as people read it: an address, or the channel's name and host.
    destination = models.CharField(max_length=300)
    audience = models.CharField(max_length=20, blank=True)
    subject = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)
    urgent = models.BooleanField(default=False)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_until = models.DateTimeField(null=True, blank=True)
    # The token of the claim that holds the row while it is ``sending``.
    claim = models.UUIDField(null=True, blank=True, editable=False)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    bundled_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="bundled"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["release", "created_at"]),
            models.Index(fields=["project", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.event_key} → {self.destination} ({self.status})"
