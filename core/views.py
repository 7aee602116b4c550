"""Liveness and readiness probes."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from core.tasks import HEARTBEAT_KEY

# The scheduler sends a heartbeat every 15 s; two missed beats plus slack.
HEARTBEAT_STALE_AFTER = 45


@never_cache
@require_safe
def healthz(request):
    return JsonResponse({"status": "ok"})


def _check_database() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True, connection.vendor
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        return False, type(exc).__name__


def _check_broker() -> tuple[bool, str]:
    from celery import current_app as app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            return True, conn.transport_cls if isinstance(conn.transport_cls, str) else "ok"
    except Exception as exc:  # noqa: BLE001
        return False, type(exc).__name__


@never_cache
@require_safe
def readyz(request):
    db_ok, db_info = _check_database()
    broker_ok, broker_info = _check_broker()
    beat = cache.get(HEARTBEAT_KEY) if db_ok else None
    if beat:
        age = round(time.time() - beat["ran_at"], 1)
        worker = {
            "status": "ok" if age < HEARTBEAT_STALE_AFTER else "stale",
            "last_heartbeat_seconds_ago": age,
        }
    else:
        worker = {"status": "unknown", "last_heartbeat_seconds_ago": None}
    ok = db_ok and broker_ok
    body: dict[str, Any] = {
        "status": "ok" if ok else "unavailable",
        "database": {"status": "ok" if db_ok else "error", "detail": db_info},
        "broker": {"status": "ok" if broker_ok else "error", "detail": broker_info},
        "worker_and_scheduler": worker,
    }
    if request.user.is_authenticated and request.user.is_staff:
        # Where the broker is (host and port, never the password) is for operators only.
        body["broker"]["url"] = _broker_location()
    return JsonResponse(body, status=200 if ok else 503)


def _broker_location() -> str:
    from urllib.parse import urlsplit

    url = settings.CELERY_BROKER_URL
    parts = urlsplit(url)
    if not parts.hostname:
        return url
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}{parts.path}"
