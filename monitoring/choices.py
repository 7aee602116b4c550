"""Statuses of monitoring windows, checks and samples.

A window watches one deployment for a while::

    running ──► passed                    (every check held until the end)
       │   ──► failed                     (a critical check failed, or a person aborted)
       │   ──► inconclusive ─┐            (not enough evidence; a person decides)
       │   ──► error ────────┤            (the metrics provider is out; a person decides)
       │                     ├─► passed   (accepted by a person)
       │                     ├─► running  (extended by a person)
       │                     └─► failed   (rolled back by a person)
       └──► cancelled                     (the deployment ended some other way)

Each poll of a check yields a *measurement outcome* (pass, fail,
inconclusive, error); the tally of outcomes gives the check's verdict and the
checks' verdicts give the window's (see ``monitoring.verdicts``).
"""

from django.db import models


class WindowKind(models.TextChoices):
    CANARY = "canary", "Canary"
    POST_DEPLOY = "post_deploy", "Post-deploy"


class WindowStatus(models.TextChoices):
    RUNNING = "running", "Running"
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"
    INCONCLUSIVE = "inconclusive", "Inconclusive"
    ERROR = "error", "Error"
    CANCELLED = "cancelled", "Cancelled"


WINDOW_TRANSITIONS: dict[str, frozenset[str]] = {
    WindowStatus.RUNNING: frozenset(
        {
            WindowStatus.PASSED,
            WindowStatus.FAILED,
            WindowStatus.INCONCLUSIVE,
            WindowStatus.ERROR,
            WindowStatus.CANCELLED,
        }
    ),
    WindowStatus.INCONCLUSIVE: frozenset(
        {
            WindowStatus.PASSED,
            WindowStatus.RUNNING,
            WindowStatus.FAILED,
            WindowStatus.CANCELLED,
        }
    ),
    WindowStatus.ERROR: frozenset(
        {
            WindowStatus.PASSED,
            WindowStatus.RUNNING,
            WindowStatus.FAILED,
            WindowStatus.CANCELLED,
        }
    ),
    WindowStatus.PASSED: frozenset(),
    WindowStatus.FAILED: frozenset(),
    WindowStatus.CANCELLED: frozenset(),
}

# Windows that wait for a person's decision.
WINDOW_WAITING_STATES = frozenset({WindowStatus.INCONCLUSIVE, WindowStatus.ERROR})
WINDOW_OPEN_STATES = frozenset({WindowStatus.RUNNING}) | WINDOW_WAITING_STATES
WINDOW_FINAL_STATES = frozenset({WindowStatus.PASSED, WindowStatus.FAILED, WindowStatus.CANCELLED})


class CheckVerdictStatus(models.TextChoices):
    RUNNING = "running", "Running"
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"
    INCONCLUSIVE = "inconclusive", "Inconclusive"
    ERROR = "error", "Error"


class Outcome(models.TextChoices):
    """What one measurement says about the deployment."""

    PASS = "pass", "Pass"
    FAIL = "fail", "Fail"
    INCONCLUSIVE = "inconclusive", "Inconclusive"
    ERROR = "error", "Error"


class SampleStatus(models.TextChoices):
    """What the endpoint answered, before it is judged."""

    OK = "ok", "OK"
    UNHEALTHY = "unhealthy", "Unhealthy"  # a health endpoint answered, but not as expected
    NO_DATA = "no_data", "No data"  # empty result, NaN, missing path
    ERROR = "error", "Error"  # unreachable, timeout, refused address, provider error


class CheckKind(models.TextChoices):
    HEALTH = "health", "Health check"
    METRIC = "metric", "Metric check"


class MetricProvider(models.TextChoices):
    PROMETHEUS = "prometheus", "Prometheus instant query"
    JSON = "json", "JSON endpoint"


class Direction(models.TextChoices):
    """Which way a metric gets worse: relative bounds apply in that direction only."""

    HIGHER_IS_WORSE = "higher_is_worse", "Higher is worse (errors, latency, CPU)"
    LOWER_IS_WORSE = "lower_is_worse", "Lower is worse (throughput, success rate)"


class HttpMethod(models.TextChoices):
    GET = "GET", "GET"
    HEAD = "HEAD", "HEAD"
    POST = "POST", "POST"


class BaselineStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    TAKEN = "taken", "Taken"
    NO_DATA = "no_data", "No data"
    ERROR = "error", "Error"


class DecisionAction(models.TextChoices):
    ACCEPT = "accept", "Accept and continue"
    EXTEND = "extend", "Extend the window"
    ROLLBACK = "rollback", "Abort and roll back"
    PROMOTE = "promote", "Proceed to full rollout"


class HookCallStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SUCCEEDED = "succeeded", "Accepted by the hook"
    FAILED = "failed", "Failed"


class RolloutState(models.TextChoices):
    """Where a canary deployment's traffic stands, as far as Shipcheck knows."""

    CANARY = "canary", "Canary traffic only"
    AWAITING_PROMOTION = "awaiting_promotion", "Canary passed; waiting for a person"
    FULL = "full", "Full rollout"
