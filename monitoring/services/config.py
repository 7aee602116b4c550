"""What to watch: the policy and the checks of an environment.

Every write here is for project admins, refuses bad configuration with a
message per field (``ValidationFailed.details``, the rules are in
``monitoring.services.validation``), and writes an audit event.
Header values and the hook secret are secrets: they never reach an audit
event or a page, only the fact that they changed.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction

from audit.services import audit_record
from core.exceptions import NotFound, ValidationFailed
from monitoring.choices import CheckKind, Direction
from monitoring.models import EnvironmentPolicy, HealthCheck, MetricCheck
from monitoring.permissions import can_configure_checks, can_view_monitoring
from monitoring.probes import ProbeSpec, probe
from monitoring.services.validation import (
    LIMIT_MAX,
    MAX_HEADERS,
    parse_headers,
    validate_health,
    validate_metric,
    validate_policy,
)
from monitoring.verdicts import Bounds, judge_health, judge_metric
from projects.choices import Role
from projects.models import Environment
from projects.permissions import role_refusal

# The rules moved to ``monitoring.services.validation``; configfile and the forms
# import them from here, as before.
__all__ = [
    "HEALTH_FIELDS",
    "LIMIT_MAX",
    "MAX_HEADERS",
    "METRIC_FIELDS",
    "POLICY_FIELDS",
    "bounds_from",
    "check_create",
    "check_config",
    "check_delete",
    "check_test_now",
    "check_update",
    "config_authorize",
    "enabled_checks",
    "health_config",
    "metric_config",
    "parse_headers",
    "policy_for",
    "policy_update",
    "spec_for",
    "validate_health",
    "validate_metric",
    "validate_policy",
]

# The fields every check has, after those of its kind.
_COMMON_TAIL = (
    "timeout_seconds",
    "headers",
    "failure_limit",
    "inconclusive_limit",
    "consecutive_error_limit",
    "is_critical",
    "enabled",
)
HEALTH_FIELDS = (
    "name",
    "url",
    "method",
    "expected_statuses",
    "json_path",
    "expected_value",
    *_COMMON_TAIL,
)
METRIC_FIELDS = (
    "name",
    "url",
    "provider",
    "query",
    "json_path",
    "unit",
    "direction",
    "min_value",
    "max_value",
    "baseline_delta",
    "baseline_ratio",
    "noise_floor",
    "use_in_precheck",
    *_COMMON_TAIL,
)
POLICY_FIELDS = (
    "poll_interval",
    "canary_percent",
    "canary_duration",
    "post_deploy_duration",
    "auto_promote_canary",
    "rollback_hook_url",
    "rollback_hook_secret",
    "tls_min_days",
    "precheck_max_age",
)


# --- Reading the configuration -------------------------------------------------------


def policy_for(environment: Environment) -> EnvironmentPolicy:
    """The environment's policy, or an unsaved one with the defaults for its tier."""
    policy = EnvironmentPolicy.objects.filter(environment=environment).first()
    if policy is None:
        policy = EnvironmentPolicy(environment=environment)
        if not environment.is_production:
            # Production is always watched after a deploy; other tiers only if asked.
            policy.post_deploy_duration = timedelta(0)
    return policy


def enabled_checks(environment: Environment) -> tuple[list[HealthCheck], list[MetricCheck]]:
    return (
        list(
            HealthCheck.objects.filter(environment=environment, enabled=True).order_by("name", "id")
        ),
        list(
            MetricCheck.objects.filter(environment=environment, enabled=True).order_by("name", "id")
        ),
    )


def _limits_config(check: HealthCheck | MetricCheck) -> dict[str, Any]:
    return {
        "timeout_seconds": check.timeout_seconds,
        "failure_limit": check.failure_limit,
        "inconclusive_limit": check.inconclusive_limit,
        "consecutive_error_limit": check.consecutive_error_limit,
    }


def health_config(check: HealthCheck) -> dict[str, Any]:
    return {
        "url": check.url,
        "method": check.method,
        "expected_statuses": check.expected_statuses,
        "json_path": check.json_path,
        "expected_value": check.expected_value,
        **_limits_config(check),
    }


def metric_config(check: MetricCheck) -> dict[str, Any]:
    return {
        "url": check.url,
        "provider": check.provider,
        "query": check.query,
        "json_path": check.json_path,
        "unit": check.unit,
        "direction": check.direction,
        "min_value": check.min_value,
        "max_value": check.max_value,
        "baseline_delta": check.baseline_delta,
        "baseline_ratio": check.baseline_ratio,
        "noise_floor": check.noise_floor,
        **_limits_config(check),
    }


def check_config(check: HealthCheck | MetricCheck) -> dict[str, Any]:
    """The settings of a check that a window copies when it opens (headers are read live)."""
    return health_config(check) if isinstance(check, HealthCheck) else metric_config(check)


def bounds_from(config: dict[str, Any]) -> Bounds:
    return Bounds(
        direction=config.get("direction") or Direction.HIGHER_IS_WORSE,
        min_value=config.get("min_value"),
        max_value=config.get("max_value"),
        baseline_delta=config.get("baseline_delta"),
        baseline_ratio=config.get("baseline_ratio"),
        noise_floor=config.get("noise_floor"),
        unit=config.get("unit") or "",
    )


def spec_for(
    kind: str, config: dict[str, Any], headers: dict[str, str] | None, key: Any
) -> ProbeSpec:
    return ProbeSpec(
        key=key,
        kind=kind,
        url=config["url"],
        method=config.get("method") or "GET",
        headers=dict(headers or {}),
        timeout=float(config.get("timeout_seconds") or 5.0),
        provider=config.get("provider") or "",
        query=config.get("query") or "",
        json_path=config.get("json_path") or "",
        expected_statuses=config.get("expected_statuses") or "200",
        expected_value=config.get("expected_value") or "",
    )


# --- Writes -------------------------------------------------------------------------------


def config_authorize(*, environment: Environment, actor: Any) -> None:
    """Raise unless ``actor`` may change what ``environment`` monitors (views ask before the form)."""
    if not can_view_monitoring(actor, environment.project_id):
        raise NotFound("No such environment.")
    if not can_configure_checks(actor, environment.project_id):
        raise role_refusal(Role.ADMIN, to="change what is monitored")


@transaction.atomic
def policy_update(*, environment: Environment, actor: Any, **data: Any) -> EnvironmentPolicy:
    """Save the monitoring policy of ``environment``. Admins only. Audit: ``monitoring.policy_updated``."""
    config_authorize(environment=environment, actor=actor)
    current = policy_for(environment)
    merged = {
        field: getattr(current, field) for field in POLICY_FIELDS if field != "rollback_hook_secret"
    }
    unknown = set(data) - set(POLICY_FIELDS)
    if unknown:
        raise ValidationFailed(f"Unknown policy fields: {', '.join(sorted(unknown))}.")
    merged.update(data)
    clean = validate_policy(merged)
    policy, _created = EnvironmentPolicy.objects.select_for_update().get_or_create(
        environment=environment, defaults={"post_deploy_duration": current.post_deploy_duration}
    )
    changes: dict[str, Any] = {}
    for field, value in clean.items():
        if getattr(policy, field) != value:
            shown = "(changed)" if field == "rollback_hook_secret" else _plain(value)
            changes[field] = shown
            setattr(policy, field, value)
    if not changes and not _created:
        return policy
    policy.updated_by = actor
    policy.save()
    audit_record(
        actor=actor,
        action="monitoring.policy_updated",
        obj=policy,
        project=environment.project_id,
        data={"environment": environment.name, "changes": changes},
    )
    return policy


def _plain(value: Any) -> Any:
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value


def _check_model(kind: str) -> type[HealthCheck] | type[MetricCheck]:
    return HealthCheck if kind == CheckKind.HEALTH else MetricCheck


def _name_taken(environment: Environment, name: str) -> ValidationFailed:
    """The refusal of a second check with the same name in one environment."""
    return ValidationFailed(
        f"{environment} already has a check named '{name}'.",
        details={"name": "This name is already used in this environment."},
    )


@transaction.atomic
def check_create(
    *, environment: Environment, kind: str, actor: Any, **data: Any
) -> HealthCheck | MetricCheck:
    """Add a health or metric check to ``environment``. Admins only. Audit: ``monitoring.check_created``."""
    config_authorize(environment=environment, actor=actor)
    clean = validate_health(data) if kind == CheckKind.HEALTH else validate_metric(data)
    model = _check_model(kind)
    if model.objects.filter(environment=environment, name=clean["name"]).exists():
        raise _name_taken(environment, clean["name"])
    try:
        with transaction.atomic():
            check = model.objects.create(environment=environment, **clean)
    except IntegrityError:
        raise _name_taken(environment, clean["name"]) from None
    audit_record(
        actor=actor,
        action="monitoring.check_created",
        obj=check,
        project=environment.project_id,
        data={"environment": environment.name, "kind": kind, **_auditable(clean)},
    )
    return check


@transaction.atomic
def check_update(
    *, check: HealthCheck | MetricCheck, actor: Any, keep_headers: bool = True, **data: Any
) -> HealthCheck | MetricCheck:
    """Change a check. Running windows keep the settings they started with. Audit: ``monitoring.check_updated``.

    ``keep_headers``: when no headers are given, keep the stored ones (their
    values are never shown, so a form cannot send them back).
    """
    environment = check.environment
    config_authorize(environment=environment, actor=actor)
    model = type(check)
    check = model.objects.select_for_update().get(pk=check.pk)
    fields = HEALTH_FIELDS if model is HealthCheck else METRIC_FIELDS
    merged = {field: getattr(check, field) for field in fields}
    if keep_headers and not data.get("headers"):
        data.pop("headers", None)
    merged.update({k: v for k, v in data.items() if k in fields})
    clean = validate_health(merged) if model is HealthCheck else validate_metric(merged)
    if (
        clean["name"] != check.name
        and model.objects.filter(environment=environment, name=clean["name"]).exists()
    ):
        raise _name_taken(environment, clean["name"])
    changes: dict[str, Any] = {}
    for field, value in clean.items():
        if getattr(check, field) != value:
            changes[field] = "(changed)" if field == "headers" else value
            setattr(check, field, value)
    if not changes:
        return check
    check.save()
    audit_record(
        actor=actor,
        action="monitoring.check_updated",
        obj=check,
        project=environment.project_id,
        data={"environment": environment.name, "kind": check.kind, "changes": changes},
    )
    return check


@transaction.atomic
def check_delete(*, check: HealthCheck | MetricCheck, actor: Any) -> None:
    """Delete a check; windows that watched it keep their samples. Audit: ``monitoring.check_deleted``."""
    environment = check.environment
    config_authorize(environment=environment, actor=actor)
    audit_record(
        actor=actor,
        action="monitoring.check_deleted",
        obj=check,
        project=environment.project_id,
        data={"environment": environment.name, "kind": check.kind, "name": check.name},
    )
    check.delete()


def _auditable(clean: dict[str, Any]) -> dict[str, Any]:
    data = {k: v for k, v in clean.items() if k != "headers"}
    data["header_names"] = sorted(clean.get("headers") or {})
    return data


def check_test_now(*, check: HealthCheck | MetricCheck, actor: Any) -> dict[str, Any]:
    """Probe one check now and say what a window would conclude from this one reading.

    Nothing is stored. For admins configuring checks (and deployers, who read the page).
    """
    environment = check.environment
    if not can_view_monitoring(actor, environment.project_id):
        raise NotFound("No such check.")
    if not can_configure_checks(actor, environment.project_id):
        raise role_refusal(Role.ADMIN, to="test checks")
    if isinstance(check, HealthCheck):
        spec = spec_for(CheckKind.HEALTH, health_config(check), check.headers, key=check.pk)
        reading, result = probe(spec)
        judgement = judge_health(reading)
    else:
        config = metric_config(check)
        spec = spec_for(CheckKind.METRIC, config, check.headers, key=check.pk)
        reading, result = probe(spec)
        judgement = judge_metric(reading, bounds_from(config), None)
    return {
        "reading": reading,
        "judgement": judgement,
        "elapsed_ms": result.elapsed_ms,
        "tls_not_after": result.tls_not_after,
    }
