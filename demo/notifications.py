"""Demo data: who hears what in Storefront, and a delivery log with a retry and a dead letter.

Storefront's subscriber groups (the team, QA, the stakeholders with an outside
address, a customer list), four channels (e-mail to the groups, the #storefront-releases
Slack channel as the release channel, an operations Teams channel and the customer
status page's signed webhook), then the announcement of the latest production
deployment. The chat and webhook answers are scripted, recorded through the delivery
services as a worker would record them: Slack is busy once (HTTP 503) and takes the
retry, Teams takes it at once, the status page answers 410 Gone, which turns its
channel off and leaves a dead letter to send again. The e-mails go through the
configured e-mail backend. Idempotent: a project that has channels is left alone.
"""

from __future__ import annotations

from django.db import transaction

from core.events import publish
from demo.releases import DemoContext
from notifications import services
from notifications.choices import ChannelKind
from notifications.models import Channel, Delivery
from releases.models import Release

SUBSCRIBERS = (
    ("team", "rita"),
    ("team", "eli"),
    ("qa", "quinn"),
    ("operations", "adrian"),
    ("stakeholders", "paula"),
)
ADDRESSES = (
    ("stakeholders", "board@storefront.example", "Storefront board"),
    ("customers", "key-accounts@storefront.example", "Key accounts"),
)
# Names, not reachable hosts: the demo records scripted answers instead of sending.
CHANNELS = (
    (ChannelKind.EMAIL, "Release e-mail", "", ["team", "stakeholders", "customers"], False),
    (
        ChannelKind.SLACK,
        "#storefront-releases",
        "https://hooks.slack.com/services/T0DEMO/B0DEMO/demo",
        ["team", "operations", "qa"],
        True,
    ),
    (
        ChannelKind.TEAMS,
        "Operations (Teams)",
        "https://storefront.webhook.office.com/webhookb2/demo",
        ["operations"],
        False,
    ),
    (
        ChannelKind.WEBHOOK,
        "Customer status page",
        "https://status.storefront.example/hooks/shipcheck",
        ["operations", "stakeholders"],
        False,
    ),
)


def _say(ctx: DemoContext, text: str) -> None:
    if ctx.stdout is not None:
        ctx.stdout.write(text + "\n")


@transaction.atomic
def _busy_then_delivered(row: Delivery) -> None:
    """HTTP 503, then delivered on the retry (one transaction: no queued retry runs meanwhile)."""
    services.delivery_record(
        delivery=row,
        outcome=services.Outcome(
            False, status_code=503, error="The receiver answered HTTP 503.", retry_after=0
        ),
    )
    token = services.deliveries_claim(ids=[row.pk])
    row.refresh_from_db()
    if token is not None:
        services.delivery_record(delivery=row, outcome=services.Outcome(True, status_code=200))


def seed(ctx: DemoContext) -> None:
    project = ctx.project
    if Channel.objects.filter(project=project).exists():
        return
    admin = ctx.people["adele"]
    for audience, username in SUBSCRIBERS:
        services.subscriber_add(
            project=project, actor=admin, audience=audience, user=ctx.people[username]
        )
    for audience, address, name in ADDRESSES:
        services.subscriber_add(
            project=project, actor=admin, audience=audience, email=address, name=name
        )
    allowed = [h for _k, _n, url, _a, _r in CHANNELS if url for h in [url.split("/")[2]]]
    from django.test.utils import override_settings

    # The demo's channel hosts are made up: accept them without resolving them.
    with override_settings(SHIPCHECK_FETCH_ALLOWLIST=allowed):
        for kind, name, url, audiences, release_channel in CHANNELS:
            services.channel_create(
                project=project,
                actor=admin,
                kind=kind,
                name=name,
                url=url,
                audiences=audiences,
                is_release_channel=release_channel,
            )
    release = (
        Release.objects.filter(project=project, deployments__environment__name="production")
        .order_by("-created_at")
        .first()
    )
    if release is None:
        return
    with transaction.atomic():
        publish(
            "deployment.succeeded",
            project=project,
            subject=f"Deployed: {release.version} in Production",
            body=f"{release.title} · by Rita Ramos",
            url=release.get_absolute_url(),
            release=release,
            data={"environment": "production", "version": release.version},
        )
        rows = list(Delivery.objects.filter(project=project).order_by("pk"))
        # Held by "this worker" before commit, so no queued task sends them.
        token = services.deliveries_claim(ids=[r.pk for r in rows])
    for row in Delivery.objects.filter(claim=token).select_related("channel", "project", "release"):
        if row.kind == ChannelKind.SLACK:
            _busy_then_delivered(row)
        elif row.kind == ChannelKind.TEAMS:
            services.delivery_record(delivery=row, outcome=services.Outcome(True, status_code=202))
        elif row.kind == ChannelKind.WEBHOOK:
            services.delivery_record(
                delivery=row,
                outcome=services.Outcome(
                    False,
                    status_code=410,
                    error="The destination is gone (HTTP 410: gone).",
                    gone=True,
                ),
            )
        else:
            services.delivery_record(delivery=row, outcome=services.delivery_send(row))
    _say(
        ctx,
        f"Notifications: {len(SUBSCRIBERS) + len(ADDRESSES)} subscribers, {len(CHANNELS)} channels, "
        f"{len(rows)} deliveries of {release.version} (one retried, one dead letter).",
    )
