"""What monitoring adds to ``/metrics``: how late the due polls of running windows are.

Registered with ``core.observability.metric_collector`` in ``MonitoringConfig.ready``, so
that ``core`` reads the gauge at scrape time without importing monitoring.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric

from core.observability import metric_collector
from monitoring.choices import WindowStatus
from monitoring.models import MonitoringWindow


def poll_lag_seconds() -> float:
    """How far the oldest due poll of a running monitoring window is behind its time (0 if none)."""
    oldest = (
        MonitoringWindow.objects.filter(status=WindowStatus.RUNNING, next_poll_at__isnull=False)
        .order_by("next_poll_at")
        .values_list("next_poll_at", flat=True)
        .first()
    )
    if oldest is None:
        return 0.0
    return max((timezone.now() - oldest).total_seconds(), 0.0)


@metric_collector
def poll_lag_metrics() -> Iterator[Metric]:
    """``shipcheck_monitoring_poll_lag_seconds``; nothing when the database cannot answer."""
    try:
        lag = poll_lag_seconds()
    except Exception:  # noqa: BLE001 - no database: no reading
        return
    yield GaugeMetricFamily(
        "shipcheck_monitoring_poll_lag_seconds",
        "How late the oldest due poll of a running monitoring window is.",
        value=lag,
    )
