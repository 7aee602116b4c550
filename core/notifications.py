"""Tell people about things: an in-app notification row and an e-mail.

Call ``notification_send`` inside the service's transaction. The rows are
written with the change; the e-mail is queued only after commit, so nobody
hears of a change that was rolled back.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings

from core.models import Notification
from core.oncommit import after_commit


def notification_send(
    *,
    recipients: Iterable,
    subject: str,
    body: str = "",
    url: str = "",
    project=None,
    urgent: bool = False,
) -> list[Notification]:
    people = {person.pk: person for person in recipients if person is not None and person.pk}
    if not people:
        return []
    rows = Notification.objects.bulk_create(
        [
            Notification(
                recipient_id=pk,
                project=project,
                subject=subject[:200],
                body=body,
                url=url,
                urgent=urgent,
            )
            for pk in people
        ]
    )
    addresses = sorted({p.email for p in people.values() if p.email})
    if addresses:
        from core.tasks import send_email

        link = f"{settings.SHIPCHECK_BASE_URL.rstrip('/')}{url}" if url else ""
        text = f"{body}\n\n{link}".strip()
        # One message (and one task, retried on its own) per recipient: nobody sees the
        # other addresses, and a bounce for one never resends to the others. after_commit:
        # a broker that is down is logged, it never turns the committed change into an error.
        for address in addresses:
            after_commit(send_email.delay, subject=subject, body=text, to=[address])
    return rows


def notification_read_all(*, user) -> int:
    """Mark every unread notification of ``user`` read; returns how many changed.

    Reading your own notifications is not a state change of the product, so no audit event.
    """
    from django.utils import timezone

    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
