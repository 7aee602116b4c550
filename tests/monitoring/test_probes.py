"""Reading what providers answer: Prometheus instant queries, JSON endpoints, health endpoints.

The ``read_*`` functions are pure; the last test runs every awkward endpoint
through a real window to show each ends as a recorded sample with a status.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from monitoring.choices import SampleStatus
from monitoring.fetch import FetchResult
from monitoring.jsonpath import JsonPathError, compile_path, lookup
from monitoring.probes import parse_statuses, read_health, read_json_metric, read_prometheus


def answer(body, status=200) -> FetchResult:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return FetchResult(status_code=status, body=raw, elapsed_ms=3.0)


def vector(*values):
    return {
        "status": "success",
        "data": {
            "resultType": "vector",
            "result": [{"metric": {}, "value": [1700000000.1, v]} for v in values],
        },
    }


PROMETHEUS = [
    ("one series", answer(vector("0.031")), SampleStatus.OK, 0.031, ""),
    (
        "scalar",
        answer({"status": "success", "data": {"resultType": "scalar", "result": [1, "42"]}}),
        SampleStatus.OK,
        42.0,
        "",
    ),
    ("NaN", answer(vector("NaN")), SampleStatus.NO_DATA, None, "NaN (no data)"),
    ("+Inf", answer(vector("+Inf")), SampleStatus.OK, float("inf"), ""),
    ("empty vector", answer(vector()), SampleStatus.NO_DATA, None, "no series"),
    (
        "several series",
        answer(vector("1", "2", "3")),
        SampleStatus.ERROR,
        None,
        "returned 3 series",
    ),
    (
        "status error",
        answer({"status": "error", "errorType": "bad_data", "error": "parse error at char 7"}, 400),
        SampleStatus.ERROR,
        None,
        "answered HTTP 400: parse error at char 7",
    ),
    (
        "status error with 200",
        answer({"status": "error", "errorType": "timeout", "error": "query timed out"}),
        SampleStatus.ERROR,
        None,
        "Prometheus timeout: query timed out",
    ),
    (
        "503 html",
        answer(b"<html>Service Unavailable</html>", 503),
        SampleStatus.ERROR,
        None,
        "Prometheus answered HTTP 503",
    ),
    (
        "404",
        answer({"error": "not found"}, 404),
        SampleStatus.ERROR,
        None,
        "answered HTTP 404: not found",
    ),
    (
        "not JSON",
        answer(b"hello world"),
        SampleStatus.ERROR,
        None,
        "not JSON (starts with 'hello world')",
    ),
    ("invalid UTF-8", answer(b"\xff\xfe\xfa{"), SampleStatus.ERROR, None, "not valid UTF-8"),
    (
        "matrix",
        answer({"status": "success", "data": {"resultType": "matrix", "result": []}}),
        SampleStatus.ERROR,
        None,
        "returned a matrix result",
    ),
    ("garbage value", answer(vector("fast")), SampleStatus.ERROR, None, "'fast' is not a number"),
    ("a list, not an object", answer([1, 2]), SampleStatus.ERROR, None, "not a JSON object"),
    (
        "network error",
        FetchResult(error="No complete answer within 2 s.", error_kind="timeout"),
        SampleStatus.ERROR,
        None,
        "No complete answer",
    ),
]


@pytest.mark.parametrize(
    ("result", "status", "value", "phrase"),
    [c[1:] for c in PROMETHEUS],
    ids=[c[0] for c in PROMETHEUS],
)
def test_read_prometheus(result, status, value, phrase):
    reading = read_prometheus(result)
    assert reading.status == status
    assert reading.value == value
    assert phrase in reading.error


JSON_METRIC = [
    ("nested number", {"latency": {"p95": 180.5}}, "$.latency.p95", SampleStatus.OK, 180.5, ""),
    ("number as text", {"rate": "0.25"}, "rate", SampleStatus.OK, 0.25, ""),
    ("array index", {"items": [{"v": 1}, {"v": 7}]}, "$.items[1].v", SampleStatus.OK, 7.0, ""),
    ("quoted name", {"p95 ms": 12}, "$['p95 ms']", SampleStatus.OK, 12.0, ""),
    ("missing path", {"a": 1}, "$.b", SampleStatus.NO_DATA, None, "nothing at $.b"),
    ("null", {"a": None}, "$.a", SampleStatus.NO_DATA, None, "null (no data)"),
    ("NaN text", {"a": "NaN"}, "$.a", SampleStatus.NO_DATA, None, "NaN"),
    ("boolean", {"a": True}, "$.a", SampleStatus.ERROR, None, "true, not a number"),
    ("object", {"a": {"b": 1}}, "$.a", SampleStatus.ERROR, None, "a dict, not a number"),
]


@pytest.mark.parametrize(
    ("document", "path", "status", "value", "phrase"),
    [c[1:] for c in JSON_METRIC],
    ids=[c[0] for c in JSON_METRIC],
)
def test_read_json_metric(document, path, status, value, phrase):
    reading = read_json_metric(answer(document), path)
    assert reading.status == status
    assert reading.value == value
    assert phrase in reading.error


@pytest.mark.parametrize(
    ("result", "kwargs", "status", "phrase"),
    [
        (answer({"status": "ok"}), {}, SampleStatus.OK, ""),
        (
            answer({"status": "ok"}, 503),
            {},
            SampleStatus.UNHEALTHY,
            "answered HTTP 503; expected 200",
        ),
        (answer({}, 204), {"expected_statuses": "2xx"}, SampleStatus.OK, ""),
        (
            answer({"status": "degraded"}),
            {"json_path": "$.status", "expected_value": "ok"},
            SampleStatus.UNHEALTHY,
            "$.status is 'degraded', expected 'ok'",
        ),
        (
            answer({"db": {"up": True}}),
            {"json_path": "$.db.up", "expected_value": "true"},
            SampleStatus.OK,
            "",
        ),
        (
            answer(b"<html>ok</html>"),
            {"json_path": "$.status", "expected_value": "ok"},
            SampleStatus.UNHEALTHY,
            "not JSON",
        ),
        (
            answer({"a": 1}),
            {"json_path": "$.status", "expected_value": "ok"},
            SampleStatus.UNHEALTHY,
            "nothing at",
        ),
        (FetchResult(error="Refused: x", error_kind="refused"), {}, SampleStatus.ERROR, "Refused"),
    ],
)
def test_read_health(result, kwargs, status, phrase):
    reading = read_health(result, **kwargs)
    assert reading.status == status
    assert phrase in reading.error


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("200", ((200, 200),)),
        ("200,204", ((200, 200), (204, 204))),
        ("200-299", ((200, 299),)),
        ("2xx", ((200, 299),)),
        (" 301 , 302 ", ((301, 301), (302, 302))),
    ],
)
def test_parse_statuses(text, expected):
    assert parse_statuses(text) == expected


@pytest.mark.parametrize("text", ["", "abc", "99", "600", "299-200", "6xx", "200;204"])
def test_parse_statuses__refuses_nonsense(text):
    with pytest.raises(ValueError):
        parse_statuses(text)


@pytest.mark.parametrize(
    ("path", "keys"),
    [
        ("$", ()),
        ("", ()),
        ("status", ("status",)),
        ("$.a.b", ("a", "b")),
        ("$.a[0]", ("a", 0)),
        ("$['a b'].c", ("a b", "c")),
        ("a[-1]", ("a", -1)),
        ('$["x"]', ("x",)),
    ],
)
def test_json_path__compiles(path, keys):
    assert compile_path(path) == keys


@pytest.mark.parametrize(
    ("path", "phrase"),
    [
        ("$..a", "Recursive descent"),
        ("$.a[*]", "Wildcards"),
        ("$.*", "Wildcards"),
        ("$.a[", "never closed"),
        ("$.a[x]", "neither an index"),
        ("$a", "Unexpected 'a'"),
        ("$.", "Expected a member name"),
        ("$." + "a" * 300, "longer than 200"),
    ],
)
def test_json_path__refuses_what_it_does_not_support(path, phrase):
    with pytest.raises(JsonPathError) as exc:
        compile_path(path)
    assert phrase in str(exc.value)


def test_json_path__lookup_out_of_range_is_not_found():
    assert lookup({"a": [1]}, ("a", 3)) == (False, None)
    assert lookup({"a": 1}, ("a", "b")) == (False, None)


@pytest.mark.usefixtures("allow_loopback")
def test_awkward_endpoints__each_end_as_a_recorded_sample(release, envs, people, stub):
    from monitoring.models import MonitoringWindow, Sample
    from monitoring.services import deployment_start, monitoring_tick
    from releases.choices import DeploymentStrategy
    from tests.monitoring.conftest import configure
    from tests.monitoring.servers import Answer, prom_vector, sequence

    stub.route("/flap", sequence(Answer(200), Answer(500), Answer(200)))
    stub.route("/drip", Answer(200, body="x" * 100, drip_seconds=0.2))
    stub.route("/huge", Answer(200, stream_bytes=8 * 1024 * 1024))
    stub.route("/html", Answer(200, body="<html>nope</html>"))
    stub.route("/latin1", Answer(200, body=b'{"v": "caf\xe9"}'))
    stub.route("/api/v1/query", lambda seen: prom_vector("NaN"))
    with __import__("socket").socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    metric = {"unit": "", "max_value": 1, "timeout_seconds": 0.8}
    configure(
        envs["dev"],
        people.adam,
        canary_duration=60,
        health=[
            {"name": "Flapping", "url": stub.url("/flap")},
            {
                "name": "Unreachable",
                "url": f"http://127.0.0.1:{closed_port}/",
                "timeout_seconds": 0.8,
            },
            {"name": "Slow drip", "url": stub.url("/drip"), "timeout_seconds": 0.8},
        ],
        metrics=[
            {
                "name": "Huge",
                "provider": "json",
                "url": stub.url("/huge"),
                "json_path": "$.v",
                **metric,
            },
            {
                "name": "Not JSON",
                "provider": "json",
                "url": stub.url("/html"),
                "json_path": "$.v",
                **metric,
            },
            {
                "name": "Invalid UTF-8",
                "provider": "json",
                "url": stub.url("/latin1"),
                "json_path": "$.v",
                **metric,
            },
            {"name": "NaN", "url": stub.url(), "query": "up", **metric},
        ],
    )
    deployment = deployment_start(
        release=release,
        environment=envs["dev"],
        actor=people.bob,
        strategy=DeploymentStrategy.CANARY,
    )
    window = MonitoringWindow.objects.get(deployment=deployment)
    for slot in (1, 2):
        monitoring_tick(
            now=window.started_at + window.poll_interval * slot + timedelta(milliseconds=5)
        )
    samples = {
        (s.window_check.name, s.slot): s for s in Sample.objects.select_related("window_check")
    }
    assert len(samples) == 14
    assert samples[("Flapping", 1)].status == SampleStatus.OK
    assert samples[("Flapping", 2)].status == SampleStatus.UNHEALTHY
    assert samples[("Unreachable", 1)].status == SampleStatus.ERROR
    assert "Cannot connect" in samples[("Unreachable", 1)].detail
    assert "No complete answer within 0.8 s" in samples[("Slow drip", 1)].detail
    assert "byte limit" in samples[("Huge", 1)].detail
    assert "not JSON" in samples[("Not JSON", 1)].detail
    assert "not valid UTF-8" in samples[("Invalid UTF-8", 1)].detail
    assert samples[("NaN", 1)].status == SampleStatus.NO_DATA
