"""The checks the demo configures, pointed at the demo metrics server, and its steady values.

``configure`` gives an environment (dev, staging or production) its health and
metric checks and its monitoring policy, through the services; the history
(``demo.monitoring.history``) and the Payments API story
(``demo.monitoring.payments``) read the steady values in ``HEALTHY``.
"""

from __future__ import annotations

import os
import random
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import User
from django.test.utils import override_settings

from monitoring.choices import CheckKind
from monitoring.models import HealthCheck, MetricCheck
from monitoring.services import check_create, policy_update
from projects.models import Environment

DEMO_SERVER = os.environ.get("SHIPCHECK_DEMO_METRICS_URL", "http://127.0.0.1:8001").rstrip("/")

ERROR_RATE_QUERY = (
    'sum(rate(http_requests_total{job="storefront",status=~"5.."}[5m])) '
    '/ sum(rate(http_requests_total{job="storefront"}[5m])) * 100'
)
LATENCY_QUERY = (
    "histogram_quantile(0.95, sum(rate(http_request_duration_seconds_bucket"
    '{job="storefront"}[5m])) by (le)) * 1000'
)
CPU_QUERY = 'avg(rate(process_cpu_seconds_total{job="storefront"}[5m])) * 100'
MEMORY_QUERY = (
    'avg(process_resident_memory_bytes{job="storefront"} / node_memory_MemTotal_bytes) * 100'
)

HEALTH = {
    "name": "Health endpoint",
    "url": f"{DEMO_SERVER}/healthz",
    "json_path": "$.status",
    "expected_value": "ok",
    "timeout_seconds": 3,
    "failure_limit": 2,
}
ERROR_RATE = {
    "name": "Error rate",
    "url": DEMO_SERVER,
    "query": ERROR_RATE_QUERY,
    "unit": "%",
    "max_value": 2.0,
    "baseline_delta": 1.0,
    "failure_limit": 1,
    "timeout_seconds": 3,
}
LATENCY = {
    "name": "p95 latency",
    "url": DEMO_SERVER,
    "query": LATENCY_QUERY,
    "unit": "ms",
    "baseline_ratio": 1.2,
    "noise_floor": 250.0,
    "failure_limit": 2,
    "timeout_seconds": 3,
}
CPU = {
    "name": "CPU",
    "url": DEMO_SERVER,
    "query": CPU_QUERY,
    "unit": "%",
    "max_value": 80.0,
    "use_in_precheck": True,
    "is_critical": False,
    "failure_limit": 3,
    "timeout_seconds": 3,
}
MEMORY = {
    "name": "Memory",
    "url": DEMO_SERVER,
    "query": MEMORY_QUERY,
    "unit": "%",
    "max_value": 70.0,
    "use_in_precheck": True,
    "is_critical": False,
    "failure_limit": 3,
    "timeout_seconds": 3,
}

PLANS = {
    "dev": ([HEALTH], [], {"poll_interval": 10, "canary_duration": 600, "post_deploy_duration": 0}),
    "staging": (
        [HEALTH],
        [ERROR_RATE],
        {"poll_interval": 10, "canary_duration": 900, "post_deploy_duration": 0},
    ),
    "production": (
        [HEALTH],
        [ERROR_RATE, LATENCY, CPU, MEMORY],
        {
            "poll_interval": 10,
            "canary_duration": 900,
            "post_deploy_duration": 1800,
            "canary_percent": 5,
            "auto_promote_canary": False,
        },
    ),
}

# Metric name → (healthy centre, spread). Values the demo server also answers.
HEALTHY = {
    "Error rate": (0.4, 0.1),
    "p95 latency": (180.0, 12.0),
    "CPU": (42.0, 5.0),
    "Memory": (58.0, 2.0),
}


def _allowlisted():
    """Let the configuration accept the demo server's host even where settings would not."""
    host = urlsplit(DEMO_SERVER).hostname or "127.0.0.1"
    return override_settings(SHIPCHECK_FETCH_ALLOWLIST=[*settings.SHIPCHECK_FETCH_ALLOWLIST, host])


def configure(environment: Environment, admin: User) -> bool:
    """The demo's checks and policy for ``environment``, unless it has checks already."""
    if (
        HealthCheck.objects.filter(environment=environment).exists()
        or MetricCheck.objects.filter(environment=environment).exists()
    ):
        return False
    health, metrics, policy = PLANS[environment.name]
    values = {
        k: (
            timedelta(seconds=v)
            if k in ("poll_interval", "canary_duration", "post_deploy_duration")
            else v
        )
        for k, v in policy.items()
    }
    with _allowlisted():
        policy_update(environment=environment, actor=admin, **values)
        for spec in health:
            check_create(environment=environment, kind=CheckKind.HEALTH, actor=admin, **spec)
        for spec in metrics:
            check_create(environment=environment, kind=CheckKind.METRIC, actor=admin, **spec)
    return True


def healthy_value(name: str, rng: random.Random) -> float:
    """A steady reading of the metric ``name``, with a little noise."""
    centre, spread = HEALTHY.get(name, (1.0, 0.1))
    return round(centre + rng.uniform(-spread, spread), 3)
