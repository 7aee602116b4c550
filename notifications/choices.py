"""Statuses and kinds of the notifications app."""

from django.db import models

from core.events import AUDIENCES

AUDIENCE_LABELS = {
    "team": "Team",
    "qa": "QA",
    "operations": "Operations",
    "stakeholders": "Stakeholders",
    "customers": "Customers",
}
AUDIENCE_CHOICES = [(a, AUDIENCE_LABELS.get(a, a.title())) for a in AUDIENCES]


class ChannelKind(models.TextChoices):
    EMAIL = "email", "E-mail to the groups' subscribers"
    SLACK = "slack", "Slack incoming webhook"
    TEAMS = "teams", "Microsoft Teams workflow webhook"
    WEBHOOK = "webhook", "Signed JSON webhook"


# Channels that are one HTTP destination (one delivery row per event), as against e-mail
# (one row per subscriber).
HTTP_KINDS = frozenset({ChannelKind.SLACK, ChannelKind.TEAMS, ChannelKind.WEBHOOK})


class PreferenceMode(models.TextChoices):
    EMAIL = "email", "E-mail at once"
    DIGEST = "digest", "E-mail in a daily digest"
    APP = "app", "In the app only"
    OFF = "off", "Not at all"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Waiting"
    SENDING = "sending", "Sending"
    RETRYING = "retrying", "Will retry"
    DELIVERED = "delivered", "Delivered"
    DEAD = "dead", "Dead letter"
    DIGEST = "digest", "Waiting for the digest"
    BUNDLED = "bundled", "Sent in a digest"


# A worker may claim a row in these states (``sending`` only once its lease has run out).
CLAIMABLE = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)
