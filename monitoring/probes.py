"""Probes: fetch one check's URL and turn the answer into a ``Reading``.

``read_*`` functions are pure (a ``FetchResult`` in, a ``Reading`` out) so
every odd answer — ``"NaN"``, ``"+Inf"``, an empty vector, ``status: error``,
a 503, HTML instead of JSON, invalid UTF-8 — is pinned down by plain tests.
``probe`` adds the network, through ``monitoring.fetch`` only.

``ProbeSpec`` carries everything a probe needs as plain data, so probes run
in worker threads without touching the database.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, TypedDict

from monitoring import fetch as fetching
from monitoring.choices import CheckKind, MetricProvider, SampleStatus
from monitoring.jsonpath import compile_path, lookup
from monitoring.verdicts import Reading

PROMETHEUS_QUERY_PATH = "/api/v1/query"


@dataclass(frozen=True)
class ProbeSpec:
    key: Any  # whatever the caller uses to match readings back (a WindowCheck id)
    kind: str
    url: str
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    timeout: float = 5.0
    provider: str = ""
    query: str = ""
    json_path: str = ""
    expected_statuses: str = "200"
    expected_value: str = ""

    def __hash__(self) -> int:
        return hash((self.key, self.kind, self.url))


# --- Expected status codes ---------------------------------------------------------

_STATUS_PART = re.compile(r"^(\d{3})(?:-(\d{3}))?$|^([1-5])xx$")


def parse_statuses(text: str) -> tuple[tuple[int, int], ...]:
    """``"200"``, ``"200,204"``, ``"200-299"`` or ``"2xx"`` → ranges; ValueError with a message."""
    ranges = []
    for part in (text or "").replace(" ", "").split(","):
        if not part:
            continue
        match = _STATUS_PART.match(part.lower())
        if not match:
            raise ValueError(
                f"'{part}' is not a status code, a range like 200-299, or a class like 2xx."
            )
        if match.group(3):
            low = int(match.group(3)) * 100
            ranges.append((low, low + 99))
            continue
        low, high = int(match.group(1)), int(match.group(2) or match.group(1))
        if not (100 <= low <= high <= 599):
            raise ValueError(f"'{part}' is outside the HTTP status codes 100 to 599, or reversed.")
        ranges.append((low, high))
    if not ranges:
        raise ValueError("Name at least one expected status code, such as 200.")
    return tuple(ranges)


def status_expected(code: int, text: str) -> bool:
    try:
        return any(low <= code <= high for low, high in parse_statuses(text))
    except ValueError:
        return code == 200


# --- Numbers as providers write them ---------------------------------------------


def parse_number(raw: Any) -> tuple[float | None, str]:
    """(value, problem). ``"NaN"`` and null are no data; ``"+Inf"`` is a value."""
    if raw is None:
        return None, "the value is null (no data)"
    if isinstance(raw, bool):
        return None, f"the value is {str(raw).lower()}, not a number"
    if isinstance(raw, int | float):
        value = float(raw)
    elif isinstance(raw, str):
        text = raw.strip()
        try:
            value = float(text)
        except ValueError:
            shown = text if len(text) <= 40 else text[:39] + "…"
            return None, f"'{shown}' is not a number"
    else:
        return None, f"the value is a {type(raw).__name__}, not a number"
    if math.isnan(value):
        return math.nan, "the value is NaN (no data)"
    return value, ""


def _decode_json(result: fetching.FetchResult) -> tuple[Any, str]:
    try:
        text = result.body.decode("utf-8")
    except UnicodeDecodeError:
        return None, "the answer is not valid UTF-8"
    try:
        return json.loads(text), ""
    except (ValueError, RecursionError):
        shown = " ".join(text[:60].split())
        return (
            None,
            f"the answer is not JSON (starts with '{shown}')" if shown else "the answer is empty",
        )


class _Measured(TypedDict):
    """What every reading of an answer carries: its HTTP status and how long it took."""

    http_status: int | None
    latency_ms: float | None


def _measured(result: fetching.FetchResult) -> _Measured:
    return {"http_status": result.status_code, "latency_ms": result.elapsed_ms}


def _http_failure(result: fetching.FetchResult, who: str) -> Reading | None:
    if result.error:
        return Reading(
            SampleStatus.ERROR,
            error=result.error,
            **_measured(result),
        )
    if result.status_code is None or result.status_code >= 400:
        detail = ""
        document, problem = _decode_json(result)
        if not problem and isinstance(document, dict) and isinstance(document.get("error"), str):
            detail = f": {document['error'][:200]}"
        return Reading(
            SampleStatus.ERROR,
            error=f"{who} answered HTTP {result.status_code}{detail}",
            **_measured(result),
        )
    return None


def read_prometheus(result: fetching.FetchResult) -> Reading:
    """An instant query's answer (``/api/v1/query``) → one value."""
    failure = _http_failure(result, "Prometheus")
    if failure:
        return failure
    extra = _measured(result)
    document, problem = _decode_json(result)
    if problem:
        return Reading(SampleStatus.ERROR, error=f"Prometheus: {problem}", **extra)
    if not isinstance(document, dict):
        return Reading(
            SampleStatus.ERROR, error="Prometheus: the answer is not a JSON object", **extra
        )
    if document.get("status") == "error":
        kind = document.get("errorType") or "error"
        return Reading(
            SampleStatus.ERROR,
            error=f"Prometheus {kind}: {str(document.get('error', ''))[:200]}",
            **extra,
        )
    data = document.get("data")
    if document.get("status") != "success" or not isinstance(data, dict):
        return Reading(
            SampleStatus.ERROR,
            error="Prometheus: the answer has no 'data' of a successful query",
            **extra,
        )
    kind, items = data.get("resultType"), data.get("result")
    if kind == "scalar":
        pair = items
    elif kind == "vector":
        if not isinstance(items, list):
            return Reading(
                SampleStatus.ERROR, error="Prometheus: the vector result is not a list", **extra
            )
        if not items:
            return Reading(
                SampleStatus.NO_DATA, error="the query returned no series (no data)", **extra
            )
        if len(items) > 1:
            return Reading(
                SampleStatus.ERROR,
                error=f"the query returned {len(items)} series; aggregate it "
                "to one, e.g. with sum() or max()",
                **extra,
            )
        pair = items[0].get("value") if isinstance(items[0], dict) else None
    else:
        return Reading(
            SampleStatus.ERROR,
            error=f"the query returned a {kind or 'missing'} result; "
            "use an instant query giving a vector or a scalar",
            **extra,
        )
    if not isinstance(pair, list) or len(pair) != 2:
        return Reading(
            SampleStatus.ERROR, error="Prometheus: a sample is not a [time, value] pair", **extra
        )
    value, problem = parse_number(pair[1])
    if value is None:
        return Reading(SampleStatus.ERROR, error=f"Prometheus: {problem}", **extra)
    if math.isnan(value):
        return Reading(
            SampleStatus.NO_DATA, value=None, error="the query returned NaN (no data)", **extra
        )
    return Reading(SampleStatus.OK, value=value, **extra)


def read_json_metric(result: fetching.FetchResult, json_path: str) -> Reading:
    """A JSON document and a path to one number in it → one value."""
    failure = _http_failure(result, "The endpoint")
    if failure:
        return failure
    extra = _measured(result)
    document, problem = _decode_json(result)
    if problem:
        return Reading(SampleStatus.ERROR, error=problem[0].upper() + problem[1:], **extra)
    try:
        keys = compile_path(json_path)
    except ValueError as exc:
        return Reading(SampleStatus.ERROR, error=str(exc), **extra)
    found, raw = lookup(document, keys)
    if not found:
        return Reading(
            SampleStatus.NO_DATA, error=f"nothing at {json_path or '$'} in the answer", **extra
        )
    value, problem = parse_number(raw)
    if value is None:
        status = SampleStatus.NO_DATA if raw is None else SampleStatus.ERROR
        return Reading(status, error=f"{json_path or '$'}: {problem}", **extra)
    if math.isnan(value):
        return Reading(SampleStatus.NO_DATA, error=f"{json_path or '$'}: {problem}", **extra)
    return Reading(SampleStatus.OK, value=value, **extra)


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return str(value)


def read_health(
    result: fetching.FetchResult,
    *,
    expected_statuses: str = "200",
    json_path: str = "",
    expected_value: str = "",
) -> Reading:
    """A health endpoint's answer → ok, unhealthy (answered wrongly) or error (no answer)."""
    if result.error:
        return Reading(
            SampleStatus.ERROR,
            error=result.error,
            **_measured(result),
        )
    extra = _measured(result)
    code = result.status_code or 0
    if not status_expected(code, expected_statuses):
        return Reading(
            SampleStatus.UNHEALTHY,
            value=0.0,
            error=f"answered HTTP {code}; expected {expected_statuses}",
            **extra,
        )
    if json_path and expected_value != "":
        document, problem = _decode_json(result)
        if problem:
            return Reading(SampleStatus.UNHEALTHY, value=0.0, error=problem, **extra)
        try:
            found, raw = lookup(document, compile_path(json_path))
        except ValueError as exc:
            return Reading(SampleStatus.ERROR, error=str(exc), **extra)
        if not found:
            return Reading(
                SampleStatus.UNHEALTHY,
                value=0.0,
                error=f"nothing at {json_path} in the answer",
                **extra,
            )
        if _as_text(raw) != expected_value:
            shown = _as_text(raw)
            shown = shown if len(shown) <= 60 else shown[:59] + "…"
            return Reading(
                SampleStatus.UNHEALTHY,
                value=0.0,
                error=f"{json_path} is '{shown}', expected '{expected_value}'",
                **extra,
            )
    return Reading(SampleStatus.OK, value=1.0, **extra)


# --- With the network ------------------------------------------------------------


def prometheus_query_url(base_url: str) -> str:
    base = base_url.rstrip("/")
    return base if base.endswith(PROMETHEUS_QUERY_PATH) else base + PROMETHEUS_QUERY_PATH


def probe(spec: ProbeSpec) -> tuple[Reading, fetching.FetchResult]:
    """Fetch and read one check. Never raises for anything the remote side does."""
    if spec.kind == CheckKind.HEALTH:
        result = fetching.fetch(
            spec.url, method=spec.method, headers=spec.headers, timeout=spec.timeout
        )
        return read_health(
            result,
            expected_statuses=spec.expected_statuses,
            json_path=spec.json_path,
            expected_value=spec.expected_value,
        ), result
    if spec.provider == MetricProvider.PROMETHEUS:
        result = fetching.fetch(
            prometheus_query_url(spec.url),
            headers=spec.headers,
            timeout=spec.timeout,
            params={"query": spec.query},
        )
        return read_prometheus(result), result
    result = fetching.fetch(spec.url, headers=spec.headers, timeout=spec.timeout)
    return read_json_metric(result, spec.json_path), result
