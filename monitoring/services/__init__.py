"""Every write of the monitoring app, split by subject (see each module's docstring)."""

from monitoring.services.closing import release_hold, window_close
from monitoring.services.config import (
    check_create,
    check_delete,
    check_test_now,
    check_update,
    config_authorize,
    policy_for,
    policy_update,
)
from monitoring.services.decisions import window_authorize, window_decide
from monitoring.services.hooks import hook_call_request, hook_call_send
from monitoring.services.polling import baselines_take, monitoring_tick
from monitoring.services.prechecks import precheck_latest, precheck_refresh_due, precheck_run
from monitoring.services.windows import (
    deployment_start,
    on_deployment_changed,
    window_conclude,
    window_open,
)

__all__ = [
    "baselines_take",
    "check_create",
    "check_delete",
    "check_test_now",
    "check_update",
    "config_authorize",
    "deployment_start",
    "hook_call_request",
    "hook_call_send",
    "monitoring_tick",
    "on_deployment_changed",
    "policy_for",
    "policy_update",
    "precheck_latest",
    "precheck_refresh_due",
    "precheck_run",
    "release_hold",
    "window_close",
    "window_conclude",
    "window_authorize",
    "window_decide",
    "window_open",
]
