"""Delivering the outbox: claim, send, record; send again; digests; the checklist evidence.

The Celery tasks call these. ``delivery_attempt`` claims one outbox row with a
conditional UPDATE, sends it without holding a transaction, and records the outcome
only if its claim still holds; ``deliveries_drain`` does the same for a backlog in
claimed batches.
"""

from __future__ import annotations

import logging
import random
import smtplib
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from audit.services import audit_record
from core.exceptions import Conflict, PermissionDenied
from core.markdown import render_markdown
from core.notifications import notification_send
from core.oncommit import after_commit
from monitoring.fetch import fetch
from notifications import conf, payloads
from notifications.choices import (
    AUDIENCE_LABELS,
    CLAIMABLE,
    ChannelKind,
    DeliveryStatus,
)
from notifications.models import Channel, Delivery
from notifications.permissions import can_resend
from notifications.routing import absolute, event_label
from notifications.services.config import unsubscribe_url
from projects.choices import Role
from projects.models import Membership

logger = logging.getLogger(__name__)

# --- Delivering ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    status_code: int | None = None
    error: str = ""
    # Never retried (refused address, a recipient the mail server refuses).
    permanent: bool = False
    # The destination is gone (HTTP 410, an archived Slack channel): turn the channel off.
    gone: bool = False
    retry_after: float | None = None


def message_for(delivery: Delivery) -> payloads.Message:
    return payloads.Message(
        uid=str(delivery.uid),
        event_key=delivery.event_key,
        event_label=event_label(delivery.event_key),
        project=delivery.project.name,
        subject=delivery.subject,
        body=delivery.body,
        url=delivery.url,
        release=delivery.release.version if delivery.release_id and delivery.release else "",
        data=delivery.data or {},
        created_at=delivery.created_at.isoformat(),
    )


def request_for(delivery: Delivery, *, now: float | None = None) -> tuple[bytes, dict[str, str]]:
    """The body and headers of an HTTP delivery (``now``: the Standard Webhooks timestamp)."""
    message = message_for(delivery)
    channel = delivery.channel
    if delivery.kind == ChannelKind.SLACK:
        payload = payloads.slack_payload(message)
    elif delivery.kind == ChannelKind.TEAMS:
        payload = payloads.teams_payload(message)
    else:
        payload = payloads.webhook_payload(message)
    body = payloads.body_bytes(payload)
    headers = payloads.webhook_headers(
        channel.secret if channel is not None and delivery.kind == ChannelKind.WEBHOOK else "",
        msg_id=str(delivery.uid),
        timestamp=int(now if now is not None else time.time()),
        body=body,
    )
    if delivery.kind != ChannelKind.WEBHOOK:
        headers = {"Content-Type": "application/json", "webhook-id": str(delivery.uid)}
    return body, headers


# What Slack answers when an incoming webhook's channel is archived or the hook was removed.
SLACK_GONE = ("channel_is_archived", "no_service", "channel_not_found")


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, (when - timezone.now()).total_seconds())


def _send_http(delivery: Delivery) -> Outcome:
    channel = delivery.channel
    if channel is None or not channel.url:
        return Outcome(False, error="The channel was deleted.", permanent=True)
    body, headers = request_for(delivery)
    result = fetch(
        channel.url,
        method="POST",
        headers=headers,
        content=body,
        timeout=conf.timeout_seconds(),
        max_bytes=conf.MAX_ANSWER_BYTES,
        follow_redirects=False,
    )
    code = result.status_code
    answer = result.body[:500].decode("utf-8", "replace")
    if code is None:
        permanent = result.error_kind in ("refused", "invalid")
        return Outcome(False, error=result.error, permanent=permanent)
    if 200 <= code < 300:
        return Outcome(True, status_code=code)
    if code == 410 or (delivery.kind == ChannelKind.SLACK and answer.strip() in SLACK_GONE):
        reason = f"HTTP {code}" + (f": {answer.strip()[:100]}" if answer.strip() else "")
        return Outcome(
            False, status_code=code, error=f"The destination is gone ({reason}).", gone=True
        )
    if code == 429:
        return Outcome(
            False,
            status_code=code,
            error="Too many requests (HTTP 429); waiting as the receiver asked.",
            retry_after=_retry_after(result.response_headers.get("retry-after")),
        )
    if 300 <= code < 400:
        where = result.response_headers.get("location", "")
        return Outcome(
            False,
            status_code=code,
            error=f"The receiver answered with a redirect (HTTP {code}"
            + (f" to {where[:200]}" if where else "")
            + "); deliveries never follow redirects: correct the channel's URL.",
        )
    return Outcome(
        False,
        status_code=code,
        error=f"The receiver answered HTTP {code}" + (f": {answer[:200]}" if answer else "."),
    )


def _send_email(delivery: Delivery) -> Outcome:
    subscriber = delivery.subscriber
    link = unsubscribe_url(subscriber) if subscriber is not None else ""
    context = {
        "subject": delivery.subject,
        "body_html": render_markdown(delivery.body),
        "body": delivery.body,
        "url": delivery.url,
        "project": delivery.project.name,
        "unsubscribe_url": link,
        "audience": AUDIENCE_LABELS.get(delivery.audience, delivery.audience),
    }
    text = render_to_string("notifications/email/message.txt", context)
    html = render_to_string("notifications/email/message.html", context)
    headers = {"X-Shipcheck-Delivery": str(delivery.uid)}
    if link:
        # RFC 8058 one-click: mail clients POST "List-Unsubscribe=One-Click" to the link.
        headers["List-Unsubscribe"] = f"<{link}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message = EmailMultiAlternatives(
        subject=delivery.subject, body=text, to=[delivery.destination], headers=headers
    )
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except smtplib.SMTPRecipientsRefused as exc:
        return Outcome(False, error=f"The mail server refused the address: {exc}", permanent=True)
    except (smtplib.SMTPException, OSError) as exc:
        return Outcome(False, error=f"Sending the e-mail failed: {type(exc).__name__}: {exc}"[:300])
    return Outcome(True)


def backoff_seconds(attempts: int, retry_after: float | None = None) -> float:
    """Delay before the next attempt: doubling from the base, capped, with jitter in [½, 1]."""
    cap = conf.retry_cap_seconds()
    if retry_after is not None:
        return min(retry_after, cap)
    delay = min(cap, conf.retry_base_seconds() * 2 ** max(attempts - 1, 0))
    return delay * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not a secret


def _claimable(now: Any) -> Q:
    return Q(status__in=CLAIMABLE, next_attempt_at__lte=now) | Q(
        status=DeliveryStatus.SENDING, claimed_until__lt=now
    )


def deliveries_claim(*, ids: list[int]) -> uuid.UUID | None:
    """Take rows for this worker with one conditional UPDATE: a row is won by one worker only.

    A row is free when it waits (``pending``/``retrying``, due now) or when the worker
    that claimed it went away without finishing (``sending`` past its lease). The rows
    won carry the returned claim token until their outcome is written.
    """
    now = timezone.now()
    token = uuid.uuid4()
    won = (
        Delivery.objects.filter(pk__in=ids)
        .filter(_claimable(now))
        .update(
            status=DeliveryStatus.SENDING,
            claim=token,
            claimed_until=now + timedelta(seconds=conf.lease_seconds()),
            attempts=F("attempts") + 1,
        )
    )
    return token if won else None


def delivery_claim(*, delivery_id: int) -> bool:
    return deliveries_claim(ids=[delivery_id]) is not None


def _claimed(token: uuid.UUID) -> list[Delivery]:
    return list(
        Delivery.objects.filter(claim=token, status=DeliveryStatus.SENDING)
        .select_related("channel", "project", "release")
        .order_by("pk")
    )


def delivery_send(delivery: Delivery) -> Outcome:
    """One attempt at one row, without a transaction held; never raises."""
    try:
        if delivery.kind == ChannelKind.EMAIL:
            return _send_email(delivery)
        return _send_http(delivery)
    except Exception as exc:  # noqa: BLE001 - a failed send is a recorded, retried attempt
        logger.exception("Delivery %s failed unexpectedly", delivery.uid)
        return Outcome(False, error=f"Unexpected error: {type(exc).__name__}")


def delivery_attempt(*, delivery_id: int) -> str:
    """Claim one outbox row, send it, record what happened. Returns the row's new status.

    Safe to run twice and from several workers: a row someone else holds is left alone
    (the answer is "skipped"). Called by ``notifications.tasks.deliver``.
    """
    token = deliveries_claim(ids=[delivery_id])
    if token is None:
        return "skipped"
    rows = _claimed(token)
    if not rows:
        return "skipped"
    return delivery_record(delivery=rows[0], outcome=delivery_send(rows[0]))


# Rows one sweep drains at a time, and the sends in flight at once while it does.
BATCH_SIZE = 200
SEND_THREADS = 8


def deliveries_drain(*, limit: int = 5000) -> int:
    """Deliver the rows that are due, in claimed batches: how a worker works off a backlog.

    Each row is still claimed, sent and recorded on its own terms (its own outcome, its
    own retries); the batch only shares the claiming UPDATE, the reading SELECT and, for
    the rows that were delivered, the UPDATE that records it. Sends run on a few threads.
    """
    from concurrent.futures import ThreadPoolExecutor

    from django.db import close_old_connections

    def send(row: Delivery) -> Outcome:
        try:
            return delivery_send(row)
        finally:
            close_old_connections()

    handled = 0
    with ThreadPoolExecutor(max_workers=SEND_THREADS, thread_name_prefix="notify-send") as pool:
        while handled < limit:
            due = list(
                Delivery.objects.filter(_claimable(timezone.now()))
                .order_by("next_attempt_at", "pk")
                .values_list("pk", flat=True)[: min(BATCH_SIZE, limit - handled)]
            )
            if not due:
                break
            token = deliveries_claim(ids=due)
            rows = _claimed(token) if token is not None else []
            if not rows:
                break
            outcomes = list(pool.map(send, rows))
            deliveries_record(token=token, results=list(zip(rows, outcomes, strict=True)))
            handled += len(rows)
    return handled


def deliveries_record(*, token: Any, results: list[tuple[Delivery, Outcome]]) -> None:
    """Write a batch's outcomes: one UPDATE per answer code for the delivered rows."""
    now = timezone.now()
    delivered: dict[int | None, list[int]] = {}
    for row, outcome in results:
        if outcome.delivered:
            delivered.setdefault(outcome.status_code, []).append(row.pk)
        else:
            delivery_record(delivery=row, outcome=outcome)
    for code, pks in delivered.items():
        Delivery.objects.filter(pk__in=pks, claim=token, status=DeliveryStatus.SENDING).update(
            status=DeliveryStatus.DELIVERED,
            delivered_at=now,
            last_status_code=code,
            last_error="",
            claimed_until=None,
            claim=None,
        )


def delivery_record(*, delivery: Delivery, outcome: Outcome) -> str:
    """Write an attempt's outcome, if this worker still holds the row (its claim token)."""
    now = timezone.now()
    held = Delivery.objects.filter(
        pk=delivery.pk, claim=delivery.claim, status=DeliveryStatus.SENDING
    )
    fields: dict[str, Any] = {
        "last_status_code": outcome.status_code,
        "claimed_until": None,
        "claim": None,
    }
    retry_at: float | None = None
    if outcome.delivered:
        fields.update(status=DeliveryStatus.DELIVERED, delivered_at=now, last_error="")
    elif outcome.gone:
        fields.update(status=DeliveryStatus.DEAD, last_error=outcome.error)
    elif outcome.permanent or delivery.attempts >= conf.max_attempts():
        fields.update(
            status=DeliveryStatus.DEAD,
            last_error=outcome.error
            + ("" if outcome.permanent else f" Gave up after {delivery.attempts} attempts."),
        )
    else:
        retry_at = backoff_seconds(delivery.attempts, outcome.retry_after)
        fields.update(
            status=DeliveryStatus.RETRYING,
            last_error=outcome.error,
            next_attempt_at=now + timedelta(seconds=retry_at),
        )
    with transaction.atomic():
        if not held.update(**fields):
            return "skipped"  # the lease ran out and another worker took the row
        if outcome.gone:
            _channel_gone(delivery, reason=outcome.error)
        if retry_at is not None:
            after_commit(_deliver_later, delivery.pk, retry_at)
    return str(fields["status"])


def _deliver_later(pk: int, seconds: float) -> None:
    from notifications.tasks import deliver

    deliver.apply_async((pk,), countdown=seconds)


def _channel_gone(row: Delivery, *, reason: str) -> None:
    """Turn the channel off, park its waiting rows as dead letters and tell the project's admins."""
    if row.channel_id is None:
        return
    channel = Channel.objects.select_for_update().filter(pk=row.channel_id).first()
    if channel is None or not channel.enabled:
        return
    channel.enabled = False
    channel.disabled_reason = reason
    channel.disabled_at = timezone.now()
    channel.save(update_fields=["enabled", "disabled_reason", "disabled_at"])
    Delivery.objects.filter(
        channel=channel, status__in=[DeliveryStatus.PENDING, DeliveryStatus.RETRYING]
    ).exclude(pk=row.pk).update(
        status=DeliveryStatus.DEAD, last_error=f"Not sent: the channel was turned off ({reason})"
    )
    audit_record(
        actor=None,
        action="notifications.channel_disabled",
        obj=channel,
        project=channel.project_id,
        from_state="enabled",
        to_state="disabled",
        reason=reason,
    )
    admins = [
        m.user
        for m in Membership.objects.filter(project_id=channel.project_id, role=Role.ADMIN)
        .select_related("user")
        .order_by("user_id")
    ]
    from django.urls import reverse

    notification_send(
        recipients=admins,
        project=channel.project,
        urgent=True,
        subject=f"Notification channel turned off: {channel.name}",
        body=f"{reason} Shipcheck stopped sending to it. Fix or replace the URL, turn the "
        "channel back on and send its dead letters again.",
        url=reverse("notifications:settings", args=[channel.project.slug]),
    )


def delivery_resend(*, delivery: Delivery, actor: Any) -> Delivery:
    """Send a dead letter again (same delivery id); audit ``notifications.delivery_resent``."""
    if not can_resend(actor, delivery.project):
        raise PermissionDenied(
            "Only a project admin or a release manager may send a notification again."
        )
    with transaction.atomic():
        row = (
            Delivery.objects.select_for_update(of=("self",))
            .select_related("channel")
            .get(pk=delivery.pk)
        )
        if row.status != DeliveryStatus.DEAD:
            raise Conflict(
                f"Only dead letters are sent again; this one is {row.get_status_display().lower()}."
            )
        if row.channel is None:
            raise Conflict("Its channel was deleted: there is nowhere to send it.")
        if not row.channel.enabled:
            raise Conflict(
                f"The channel '{row.channel.name}' is turned off: turn it on first, then send again."
            )
        row.status = DeliveryStatus.PENDING
        row.attempts = 0
        row.next_attempt_at = timezone.now()
        row.last_error = ""
        row.save(update_fields=["status", "attempts", "next_attempt_at", "last_error"])
        audit_record(
            actor=actor,
            action="notifications.delivery_resent",
            obj=row,
            project=row.project_id,
            release=row.release_id,
            from_state=DeliveryStatus.DEAD,
            to_state=DeliveryStatus.PENDING,
            data={"uid": str(row.uid), "destination": row.destination},
        )
        from notifications.routing import enqueue

        after_commit(enqueue, [row.pk])
    return row


def digest_send() -> int:
    """Bundle each address's waiting digest rows of a project into one e-mail row; returns how many."""
    made = 0
    waiting = list(
        Delivery.objects.filter(status=DeliveryStatus.DIGEST)
        .select_related("project", "subscriber")
        .order_by("project_id", "destination", "created_at")[:5000]
    )
    groups: dict[tuple[int, str], list[Delivery]] = {}
    for row in waiting:
        groups.setdefault((row.project_id, row.destination.lower()), []).append(row)
    for rows in groups.values():
        first = rows[0]
        with transaction.atomic():
            lines = [f"- **{r.subject}**" + (f" ({r.url})" if r.url else "") for r in rows]
            digest = Delivery.objects.create(
                event_id=first.event_id,
                event_key="notifications.digest",
                project=first.project,
                channel=first.channel,
                subscriber=first.subscriber,
                kind=ChannelKind.EMAIL,
                destination=first.destination,
                audience=first.audience,
                subject=f"{first.project.name}: {len(rows)} update{'s' if len(rows) != 1 else ''} "
                "since the last digest",
                body="\n".join(lines),
                next_attempt_at=timezone.now(),
            )
            updated = Delivery.objects.filter(
                pk__in=[r.pk for r in rows], status=DeliveryStatus.DIGEST
            ).update(status=DeliveryStatus.BUNDLED, bundled_into=digest)
            if not updated:
                digest.delete()
                continue
            from notifications.routing import enqueue

            after_commit(enqueue, [digest.pk])
            made += 1
    return made


def release_log_url(release: Any) -> str:
    """The absolute link to the delivery log of one release (checklist evidence)."""
    from urllib.parse import urlencode

    from django.urls import reverse

    query = urlencode({"release": release.version})
    return absolute(reverse("notifications:log", args=[release.project.slug]) + "?" + query)


def stakeholders_told_tick(*, item: Any, actor: Any) -> Any:
    """Tick a release's "stakeholders notified" checklist item with its delivery log as evidence.

    Refused (409) while no delivery to the stakeholders group of that release was
    delivered. The tick itself is checklists' ``item_tick`` (its rules, its audit event
    ``checklist.item_ticked``); the evidence is the link to the release's delivery log.
    """
    from checklists.permissions import can_tick_item, tick_refusal
    from checklists.services import item_tick

    release = item.checklist.release
    if not can_tick_item(actor, item, release):
        raise tick_refusal(item)
    told = Delivery.objects.filter(
        release=release, audience__contains="stakeholders", status=DeliveryStatus.DELIVERED
    ).count()
    if not told:
        raise Conflict(
            "Nobody in the stakeholders group was told about this release yet: the delivery log "
            "has no delivered message to them."
        )
    return item_tick(
        item=item,
        actor=actor,
        note=f"{told} message{'s' if told != 1 else ''} delivered to stakeholders (delivery log).",
        evidence=release_log_url(release),
    )
