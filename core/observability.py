"""Request ids, structured logs and the app's own Prometheus metrics (docs/operations.md).

* Every request gets an id: the caller's ``X-Request-ID`` when it is a sane token, else a new
  one. It is on every log line written while the request runs, in the ``X-Request-ID`` header
  of every answer (errors included) and in ``details.request_id`` of a 500's body (a refusal's
  details stay the caller's own fields, docs/operations.md). Celery tasks log
  their task id the same way.
* ``LOG_FORMAT=json`` (the production default) writes one JSON object per line.
* ``/metrics`` serves Prometheus text: requests and latencies of this process (all gunicorn
  workers with ``PROMETHEUS_MULTIPROC_DIR``), and, read at scrape time from the cache, the
  database and the broker, what the workers did: task runs, the queue depth, and what other
  apps register with ``metric_collector`` (monitoring: the poll lag). It answers only with
  ``Authorization: Bearer $SHIPCHECK_METRICS_TOKEN``, or, when no token is set, to clients on
  the loopback address.
"""

from __future__ import annotations

import contextvars
import hmac
import ipaddress
import json
import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

logger = logging.getLogger("shipcheck.request")

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # Multiprocess metrics need their folder before the first value is written.
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{8,128}")
_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")


def current_request_id() -> str:
    return _request_id.get()


def set_request_id(value: str) -> contextvars.Token:
    return _request_id.set(value)


# --- Logs -------------------------------------------------------------------------


class RequestIdFilter(logging.Filter):
    """Puts the current request (or task) id on every record as ``request_id``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = current_request_id() or "-"
        return True


_EXTRA_FIELDS = ("method", "path", "route", "status", "duration_ms", "user", "task", "task_id")


def _shown_id(value: str) -> str | None:
    value = value if value and value != "-" else current_request_id()
    return value or None


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id and the extras."""

    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": _shown_id(getattr(record, "request_id", "")),
        }
        for field in _EXTRA_FIELDS:
            if hasattr(record, field):
                payload[field] = getattr(record, field)
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str, ensure_ascii=False)


# --- Metrics of this process --------------------------------------------------------

REQUESTS = Counter(
    "shipcheck_http_requests_total",
    "HTTP requests answered, by method, route and status code.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "shipcheck_http_request_duration_seconds",
    "Time to answer an HTTP request (until the view returned), by method and route.",
    ["method", "route"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


def _route(request) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return match.view_name or match.route or "unnamed"


class RequestIdMiddleware:
    """First in MIDDLEWARE: the id, the header, the request log line and the request metrics."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = given if _SANE_ID.fullmatch(given) else uuid.uuid4().hex
        request.request_id = request_id
        token = set_request_id(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            elapsed = time.perf_counter() - started
            response[REQUEST_ID_HEADER] = request_id
            route = _route(request)
            if request.path != "/metrics":
                REQUESTS.labels(request.method, route, str(response.status_code)).inc()
                LATENCY.labels(request.method, route).observe(elapsed)
            logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "route": route,
                    "status": response.status_code,
                    "duration_ms": round(elapsed * 1000, 1),
                },
            )
            return response
        finally:
            _request_id.reset(token)


# --- Metrics of the workers, read at scrape time --------------------------------------

TASK_OUTCOMES = ("succeeded", "failed", "retried")
_TASK_KEY = "shipcheck:metrics:task:{task}:{outcome}"


def task_outcome_record(task: str, outcome: str) -> None:
    """Count one task run in the shared cache (workers are other processes than /metrics)."""
    key = _TASK_KEY.format(task=task, outcome=outcome)
    try:
        cache.add(key, 0, timeout=None)
        cache.incr(key)
    except Exception:  # noqa: BLE001 - a metric must never break a task
        logging.getLogger(__name__).warning("Could not count task %s (%s)", task, outcome)


def _task_names() -> list[str]:
    from celery import current_app as app

    return sorted(name for name in app.tasks if not name.startswith("celery."))


def queue_depths() -> dict[str, int | None]:
    """Messages waiting per queue (None when the broker cannot be asked)."""
    from celery import current_app as app

    queues = settings.SHIPCHECK_WORKER_QUEUES.split(",")
    depths: dict[str, int | None] = dict.fromkeys(queues)
    try:
        with app.connection_for_read() as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
            channel = connection.default_channel
            for queue in queues:
                try:
                    # Every transport's channel declares queues; kombu-stubs' StdChannel lacks it.
                    declared = channel.queue_declare(queue=queue, passive=True)  # type: ignore[attr-defined]
                    depths[queue] = declared.message_count
                except Exception:  # noqa: BLE001 - a queue nobody declared yet holds nothing
                    depths[queue] = 0
    except Exception:  # noqa: BLE001
        logging.getLogger(__name__).warning("Could not read the queue depths from the broker")
    return depths


# Gauges that other apps compute at scrape time (monitoring: the poll lag), registered from
# their AppConfig.ready() so that core never imports them. Each collector yields metric
# families; they appear after the queue depth, in the order the apps registered them.
MetricCollector = Callable[[], Iterable[Metric]]
_collectors: list[MetricCollector] = []


def metric_collector(func: MetricCollector) -> MetricCollector:
    """Add ``func`` to what ``/metrics`` reads at scrape time (once, however often it is called)."""
    if func not in _collectors:
        _collectors.append(func)
    return func


class WorkerCollector:
    """Gauges and counters computed when Prometheus scrapes."""

    def collect(self):
        runs = CounterMetricFamily(
            "shipcheck_task_runs",
            "Celery task runs, by task and outcome (counted by the workers).",
            labels=["task", "outcome"],
        )
        names = _task_names()
        keys = {_TASK_KEY.format(task=t, outcome=o): (t, o) for t in names for o in TASK_OUTCOMES}
        try:
            values = cache.get_many(list(keys))
        except Exception:  # noqa: BLE001
            values = {}
        for key, (task, outcome) in keys.items():
            runs.add_metric([task, outcome], float(values.get(key) or 0))
        yield runs

        depth = GaugeMetricFamily(
            "shipcheck_queue_depth", "Messages waiting in each Celery queue.", labels=["queue"]
        )
        for queue, count in queue_depths().items():
            if count is not None:
                depth.add_metric([queue], float(count))
        yield depth

        for collector in list(_collectors):
            yield from collector()

        from core.tasks import HEARTBEAT_KEY

        beat = cache.get(HEARTBEAT_KEY)
        if beat:
            yield GaugeMetricFamily(
                "shipcheck_worker_heartbeat_age_seconds",
                "Seconds since a worker last ran the scheduler's heartbeat.",
                value=max(time.time() - beat["ran_at"], 0.0),
            )
            yield GaugeMetricFamily(
                "shipcheck_task_queue_delay_seconds",
                "How long the last heartbeat waited in the queue before a worker ran it.",
                value=max(beat["ran_at"] - beat["sent_at"], 0.0),
            )


_WORKERS = WorkerCollector()


def _registry() -> CollectorRegistry:
    """This process's metrics (or every gunicorn worker's, in multiprocess mode) and the workers'."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REQUESTS)
        registry.register(LATENCY)
    registry.register(_WORKERS)
    return registry


def _allowed(request) -> bool:
    token = settings.SHIPCHECK_METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


@never_cache
@require_safe
def metrics(request):
    if not _allowed(request):
        # Not found, like anything else a caller may not see (the product's 404 page).
        raise Http404
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)


# --- Celery ----------------------------------------------------------------------------


def connect_celery_signals() -> None:
    from celery import signals

    tokens: dict[str, contextvars.Token] = {}

    @signals.task_prerun.connect(weak=False)
    def _task_started(task_id=None, task=None, **kwargs):
        if task_id:
            tokens[task_id] = set_request_id(task_id)

    @signals.task_postrun.connect(weak=False)
    def _task_ended(task_id=None, task=None, **kwargs):
        token = tokens.pop(task_id, None)
        if token is not None:
            try:
                _request_id.reset(token)
            except ValueError:  # set in another context (thread pool): just clear it
                _request_id.set("")

    @signals.task_success.connect(weak=False)
    def _succeeded(sender=None, **kwargs):
        task_outcome_record(getattr(sender, "name", str(sender)), "succeeded")

    @signals.task_failure.connect(weak=False)
    def _failed(sender=None, **kwargs):
        task_outcome_record(getattr(sender, "name", str(sender)), "failed")

    @signals.task_retry.connect(weak=False)
    def _retried(sender=None, **kwargs):
        task_outcome_record(getattr(sender, "name", str(sender)), "retried")
