from __future__ import annotations

import time

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail

HEARTBEAT_KEY = "shipcheck:heartbeat:worker"


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_email(*, subject: str, body: str, to: list[str]) -> None:
    """Send ``body`` to each address in ``to`` as a message of its own (nobody sees the others)."""
    for address in to:
        send_mail(
            subject=f"[Shipcheck] {subject}",
            message=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[address],
        )


@shared_task
def heartbeat(sent_at: float | None = None) -> None:
    """Scheduled by beat every 15 s and run by a worker: proves both are alive."""
    cache.set(
        HEARTBEAT_KEY, {"ran_at": time.time(), "sent_at": sent_at or time.time()}, timeout=3600
    )
