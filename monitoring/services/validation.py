"""The rules of monitoring configuration: a check's and a policy's fields, cleaned or refused.

Pure functions: they read nothing but the settings (the scheduler's tick, the
fetcher's URL rules) and write nothing. Each returns the cleaned values or
raises ``ValidationFailed`` with one message per field in ``details``, so the
page, the API and ``shipcheck.yml`` refuse the same input with the same sentence.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta
from typing import Any

from core.exceptions import ValidationFailed
from monitoring import fetch
from monitoring.choices import Direction, HttpMethod, MetricProvider
from monitoring.conf import tick_seconds
from monitoring.jsonpath import JsonPathError, compile_path
from monitoring.probes import parse_statuses
from monitoring.verdicts import MIN_MEASUREMENTS

# A header name is an RFC 9110 token; values may not break the request line.
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$")
_FORBIDDEN_HEADERS = {"host", "content-length", "transfer-encoding", "connection", "te", "upgrade"}
MAX_HEADERS = 20
LIMIT_MAX = 1000


class _Errors(dict[str, str]):
    def raise_if_any(self) -> None:
        if self:
            field, message = next(iter(self.items()))
            raise ValidationFailed(message, details=dict(self))


def _text(
    errors: _Errors,
    field: str,
    value: Any,
    *,
    max_length: int,
    required: bool = False,
    label: str = "",
) -> str:
    text = "" if value is None else str(value)
    label = label or field.replace("_", " ").capitalize()
    if "\x00" in text:
        errors[field] = f"{label} contains a NUL character."
    elif len(text) > max_length:
        errors[field] = f"{label} is longer than {max_length} characters."
    elif required and not text.strip():
        errors[field] = f"{label} is required."
    return text.strip()


def _number(
    errors: _Errors,
    field: str,
    value: Any,
    *,
    label: str,
    minimum: float | None = None,
    maximum: float | None = None,
    integer: bool = False,
    allow_none: bool = True,
) -> float | None:
    if value is None or value == "":
        if not allow_none:
            errors[field] = f"{label} is required."
        return None
    try:
        number = int(value) if integer else float(value)
    except (TypeError, ValueError):
        errors[field] = f"{label} must be a {'whole ' if integer else ''}number."
        return None
    if isinstance(number, float) and not math.isfinite(number):
        errors[field] = f"{label} must be a finite number."
        return None
    if minimum is not None and number < minimum:
        errors[field] = f"{label} must be at least {minimum:g}."
    elif maximum is not None and number > maximum:
        errors[field] = f"{label} must be at most {maximum:g}."
    return number


def parse_headers(text: str) -> dict[str, str]:
    """``Name: value`` lines → a dict; ValidationFailed on a malformed line."""
    headers: dict[str, str] = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        if ":" not in line:
            raise ValidationFailed(
                f"Header line {number} needs the form 'Name: value'.",
                details={"headers": f"Line {number} needs the form 'Name: value'."},
            )
        name, value = line.split(":", 1)
        headers[name.strip()] = value.strip()
    return headers


def _headers(errors: _Errors, value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors["headers"] = "Headers must be a mapping of names to values."
        return {}
    if len(value) > MAX_HEADERS:
        errors["headers"] = f"At most {MAX_HEADERS} headers."
        return {}
    clean: dict[str, str] = {}
    for name, header_value in value.items():
        name, header_value = str(name).strip(), str(header_value)
        if not _HEADER_NAME.match(name):
            errors["headers"] = f"'{name[:40]}' is not a valid header name."
        elif name.lower() in _FORBIDDEN_HEADERS:
            errors["headers"] = f"The {name} header is set by Shipcheck and cannot be configured."
        elif any(ch in header_value for ch in "\r\n\x00") or len(header_value) > 2000:
            errors["headers"] = f"The value of {name} contains a line break or is too long."
        else:
            clean[name] = header_value.strip()
    return clean


def _url(errors: _Errors, field: str, value: Any, *, required: bool = True) -> str:
    url = _text(errors, field, value, max_length=500, required=required, label="URL")
    if field in errors or not url:
        return url
    problem = fetch.url_problem(url)
    if problem:
        errors[field] = problem
    return url


def _json_path(errors: _Errors, field: str, value: Any) -> str:
    path = _text(errors, field, value, max_length=200, label="JSON path")
    if path and field not in errors:
        try:
            compile_path(path)
        except JsonPathError as exc:
            errors[field] = str(exc)
    return path


def _common(errors: _Errors, data: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {
        "name": _text(errors, "name", data.get("name"), max_length=80, required=True),
        "url": _url(errors, "url", data.get("url")),
        "timeout_seconds": _number(
            errors,
            "timeout_seconds",
            data.get("timeout_seconds", 5.0),
            label="Timeout",
            minimum=0.1,
            maximum=fetch.MAX_TIMEOUT_SECONDS,
            allow_none=False,
        ),
        "headers": _headers(errors, data.get("headers", {})),
        "is_critical": bool(data.get("is_critical", True)),
        "enabled": bool(data.get("enabled", True)),
    }
    for field, label, default in (
        ("failure_limit", "Failure limit", 1),
        ("inconclusive_limit", "Inconclusive limit", 3),
        ("consecutive_error_limit", "Consecutive error limit", 4),
    ):
        clean[field] = _number(
            errors,
            field,
            data.get(field, default),
            label=label,
            minimum=0,
            maximum=LIMIT_MAX,
            integer=True,
            allow_none=False,
        )
    return clean


def validate_health(data: dict[str, Any]) -> dict[str, Any]:
    errors = _Errors()
    clean = _common(errors, data)
    method = str(data.get("method") or HttpMethod.GET).upper()
    if method not in HttpMethod.values:
        errors["method"] = f"Method must be one of {', '.join(HttpMethod.values)}."
    clean["method"] = method
    statuses = _text(
        errors,
        "expected_statuses",
        data.get("expected_statuses") or "200",
        max_length=60,
        label="Expected statuses",
    )
    try:
        parse_statuses(statuses)
    except ValueError as exc:
        errors["expected_statuses"] = str(exc)
    clean["expected_statuses"] = statuses
    clean["json_path"] = _json_path(errors, "json_path", data.get("json_path"))
    clean["expected_value"] = _text(
        errors, "expected_value", data.get("expected_value"), max_length=200, label="Expected value"
    )
    if clean["json_path"] and not clean["expected_value"] and "json_path" not in errors:
        errors["expected_value"] = "Say which value is expected at the JSON path (for example ok)."
    if clean["expected_value"] and not clean["json_path"]:
        errors["json_path"] = "Say where the expected value is, as a JSON path such as $.status."
    errors.raise_if_any()
    return clean


def validate_metric(data: dict[str, Any]) -> dict[str, Any]:
    errors = _Errors()
    clean = _common(errors, data)
    provider = data.get("provider") or MetricProvider.PROMETHEUS
    if provider not in MetricProvider.values:
        errors["provider"] = f"Provider must be one of {', '.join(MetricProvider.values)}."
    clean["provider"] = provider
    clean["query"] = _text(errors, "query", data.get("query"), max_length=2000, label="Query")
    clean["json_path"] = _json_path(errors, "json_path", data.get("json_path"))
    if provider == MetricProvider.PROMETHEUS and not clean["query"] and "query" not in errors:
        errors["query"] = "A Prometheus check needs a PromQL query."
    if provider == MetricProvider.JSON and not clean["json_path"] and "json_path" not in errors:
        errors["json_path"] = (
            "A JSON endpoint check needs the JSON path of the number, such as $.p95_ms."
        )
    clean["unit"] = _text(errors, "unit", data.get("unit"), max_length=16, label="Unit")
    direction = data.get("direction") or Direction.HIGHER_IS_WORSE
    if direction not in Direction.values:
        errors["direction"] = "Direction must be higher_is_worse or lower_is_worse."
    clean["direction"] = direction
    clean["min_value"] = _number(errors, "min_value", data.get("min_value"), label="Minimum")
    clean["max_value"] = _number(errors, "max_value", data.get("max_value"), label="Maximum")
    clean["baseline_delta"] = _number(
        errors,
        "baseline_delta",
        data.get("baseline_delta"),
        label="Allowed change from the baseline",
        minimum=0,
    )
    clean["baseline_ratio"] = _number(
        errors,
        "baseline_ratio",
        data.get("baseline_ratio"),
        label="Allowed ratio to the baseline",
        minimum=1,
    )
    clean["noise_floor"] = _number(
        errors, "noise_floor", data.get("noise_floor"), label="Noise floor"
    )
    low, high = clean["min_value"], clean["max_value"]
    if low is not None and high is not None and low > high:
        errors["min_value"] = f"The minimum ({low:g}) is above the maximum ({high:g})."
    absolute = low is not None or high is not None
    relative = clean["baseline_delta"] is not None or clean["baseline_ratio"] is not None
    if (
        not absolute
        and not relative
        and not {"min_value", "max_value", "baseline_delta", "baseline_ratio"} & set(errors)
    ):
        errors["max_value"] = (
            "Set at least one bound: a minimum, a maximum, or a change from the baseline."
        )
    if clean["noise_floor"] is not None and not relative:
        errors["noise_floor"] = "A noise floor only applies to bounds relative to the baseline."
    clean["use_in_precheck"] = bool(data.get("use_in_precheck", False))
    if clean["use_in_precheck"] and not absolute:
        errors["use_in_precheck"] = "A pre-deployment check needs a minimum or a maximum."
    errors.raise_if_any()
    return clean


def validate_policy(data: dict[str, Any]) -> dict[str, Any]:
    errors = _Errors()
    clean: dict[str, Any] = {}

    def seconds(field: str, label: str, minimum: float, maximum: float) -> timedelta | None:
        raw = data.get(field)
        if isinstance(raw, timedelta):
            raw = raw.total_seconds()
        value = _number(
            errors, field, raw, label=label, minimum=minimum, maximum=maximum, allow_none=False
        )
        # Out of range is already an error; 1e300 seconds would not even fit a timedelta.
        return timedelta(seconds=value) if value is not None and field not in errors else None

    clean["poll_interval"] = seconds("poll_interval", "Poll interval (seconds)", 0.2, 600)
    clean["canary_duration"] = seconds("canary_duration", "Canary duration (seconds)", 1, 24 * 3600)
    clean["post_deploy_duration"] = seconds(
        "post_deploy_duration", "Post-deploy duration (seconds)", 0, 24 * 3600
    )
    clean["precheck_max_age"] = seconds(
        "precheck_max_age", "Pre-check freshness (seconds)", 60, 24 * 3600
    )
    clean["canary_percent"] = _number(
        errors,
        "canary_percent",
        data.get("canary_percent"),
        label="Canary traffic",
        minimum=1,
        maximum=100,
        integer=True,
        allow_none=False,
    )
    clean["tls_min_days"] = _number(
        errors,
        "tls_min_days",
        data.get("tls_min_days"),
        label="Minimum certificate validity (days)",
        minimum=0,
        maximum=365,
        integer=True,
        allow_none=False,
    )
    clean["auto_promote_canary"] = bool(data.get("auto_promote_canary", False))
    clean["rollback_hook_url"] = _url(
        errors, "rollback_hook_url", data.get("rollback_hook_url"), required=False
    )
    if data.get("rollback_hook_secret") is not None:
        clean["rollback_hook_secret"] = _text(
            errors,
            "rollback_hook_secret",
            data.get("rollback_hook_secret"),
            max_length=200,
            label="Hook secret",
        )
    interval = clean.get("poll_interval")
    tick = tick_seconds()
    if interval and "poll_interval" not in errors and interval.total_seconds() < tick:
        errors["poll_interval"] = (
            f"Poll interval (seconds) must be at least {tick:g}: the scheduler looks for due polls "
            f"every {tick:g} s, so a window cannot be polled more often than that."
        )
        interval = None
    if interval:
        need = interval * MIN_MEASUREMENTS
        for field, label in (
            ("canary_duration", "The canary"),
            ("post_deploy_duration", "The post-deploy window"),
        ):
            length = clean.get(field)
            if length and length < need:
                errors[field] = (
                    f"{label} must last at least {need.total_seconds():g} s: polled every "
                    f"{interval.total_seconds():g} s, {length.total_seconds():g} s give at most "
                    f"{int(length / interval)} of the {MIN_MEASUREMENTS} measurements a verdict needs"
                    + (
                        " (or set it to 0 for no post-deploy window)."
                        if field == "post_deploy_duration"
                        else "."
                    )
                )
    errors.raise_if_any()
    return clean
