"""Safe fetching: SSRF vectors, redirects, the total deadline, the size cap, proxies and TLS.

The SSRF tests point every vector at a real listener on loopback that counts
the connections it accepts, without allowlisting loopback: the count must
stay zero. One control test allowlists 127.0.0.1 and sees the listener count.
"""

from __future__ import annotations

import socket
import time

import pytest

from monitoring import fetch
from tests.monitoring.servers import Answer, CountingListener, StubServer


@pytest.fixture
def no_allowlist(settings):
    settings.SHIPCHECK_FETCH_ALLOWLIST = []


@pytest.fixture
def listener6():
    counting = CountingListener(socket.AF_INET6, "::1")
    yield counting
    counting.stop()


VECTORS = [
    ("loopback literal", "http://127.0.0.1:{port}/", "a loopback address"),
    (
        "hex integer",
        "http://0x7f000001:{port}/",
        "resolves to 127.0.0.1, which is a loopback address",
    ),
    ("decimal integer", "http://2130706433:{port}/", "a loopback address"),
    ("short dotted", "http://127.1:{port}/", "a loopback address"),
    ("IPv4-mapped IPv6", "http://[::ffff:127.0.0.1]:{port}/", "an IPv6 form of 127.0.0.1"),
    ("name resolving to loopback", "http://localhost:{port}/", "localhost resolves to"),
    ("unspecified address", "http://0.0.0.0:{port}/", "the unspecified address"),
    ("uppercase name with dot", "http://LOCALHOST.:{port}/", "a loopback address"),
]


@pytest.mark.usefixtures("no_allowlist")
@pytest.mark.parametrize(
    ("template", "phrase"), [v[1:] for v in VECTORS], ids=[v[0] for v in VECTORS]
)
def test_ssrf__loopback_vectors__make_no_connection(listener, template, phrase):
    result = fetch.fetch(template.format(port=listener.port), timeout=2)
    time.sleep(0.05)
    assert listener.accepted == 0
    assert result.error_kind == "refused"
    assert phrase in result.error
    assert "SHIPCHECK_FETCH_ALLOWLIST" in result.error


@pytest.mark.usefixtures("no_allowlist")
def test_ssrf__ipv6_loopback__makes_no_connection(listener6):
    result = fetch.fetch(f"http://[::1]:{listener6.port}/", timeout=2)
    time.sleep(0.05)
    assert listener6.accepted == 0
    assert result.error_kind == "refused" and "::1 is a loopback address" in result.error


@pytest.mark.usefixtures("no_allowlist")
@pytest.mark.parametrize(
    ("url", "phrase"),
    [
        ("http://10.1.2.3/", "10.1.2.3 is a private address"),
        ("http://192.168.0.10:8080/", "a private address"),
        ("http://172.16.5.5/", "a private address"),
        ("http://169.254.169.254/latest/meta-data/", "a cloud metadata address"),
        ("http://169.254.10.1/", "a link-local address"),
        ("http://100.64.3.2/", "a shared (carrier-grade NAT) address"),
        ("http://[fd00:ec2::254]/", "a cloud metadata address"),
        ("http://[fe80::1]/", "a link-local address"),
        ("http://[64:ff9b::a00:1]/", "an IPv6 form of 10.0.0.1"),
        ("http://224.0.0.1/", "a multicast address"),
    ],
)
def test_ssrf__internal_ranges__are_refused_before_connecting(url, phrase):
    started = time.monotonic()
    result = fetch.fetch(url, timeout=3)
    assert result.error_kind == "refused", result.error
    assert phrase in result.error
    assert time.monotonic() - started < 1.0  # refused, not timed out trying


@pytest.mark.usefixtures("no_allowlist")
@pytest.mark.parametrize(
    "target",
    [
        "http://localhost:{port}/",
        "http://[::ffff:127.0.0.1]:{port}/",
        "http://0x7f000001:{port}/",
    ],
)
def test_ssrf__redirect_to_an_internal_address__is_refused(settings, listener, target):
    redirector = StubServer()
    try:
        redirector.route(
            "/go", Answer(302, headers={"Location": target.format(port=listener.port)})
        )
        # Only the redirecting host is trusted, by its exact name.
        settings.SHIPCHECK_FETCH_ALLOWLIST = ["127.0.0.1"]
        result = fetch.fetch(redirector.url("/go"), timeout=2)
    finally:
        redirector.stop()
    time.sleep(0.05)
    assert redirector.hits["/go"] == 1
    assert listener.accepted == 0
    assert result.error_kind == "refused"


def test_control__allowlisted_loopback__is_reached(settings, listener):
    settings.SHIPCHECK_FETCH_ALLOWLIST = ["127.0.0.1"]
    fetch.fetch(f"http://127.0.0.1:{listener.port}/", timeout=0.5)
    time.sleep(0.05)
    assert listener.accepted == 1


@pytest.mark.parametrize(
    ("entries", "host", "allowed"),
    [
        (("127.0.0.1",), "127.0.0.1", True),
        (("127.0.0.1",), "localhost", False),
        ((".internal.example",), "health.internal.example", True),
        ((".internal.example",), "internal.example", True),
        ((".internal.example",), "evilinternal.example", False),
        (("10.1.0.0/16",), "10.1.2.3", True),
        (("10.1.0.0/16",), "10.2.0.1", False),
        (("metrics.svc",), "METRICS.SVC.", True),
    ],
)
def test_allowlist__matching(entries, host, allowed):
    assert fetch.host_allowlisted(host, entries) is allowed


def test_deadline__slow_drip__is_cut_at_the_total_deadline(allow_loopback, stub):
    stub.route("/drip", Answer(200, body="x" * 200, drip_seconds=0.1))
    started = time.monotonic()
    result = fetch.fetch(stub.url("/drip"), timeout=1.0)
    elapsed = time.monotonic() - started
    assert result.error_kind == "timeout"
    assert "No complete answer within 1 s" in result.error
    assert elapsed < 1.5


def test_deadline__hanging_endpoint__times_out(allow_loopback, stub):
    stub.route("/hang", Answer(200, delay_seconds=10))
    started = time.monotonic()
    result = fetch.fetch(stub.url("/hang"), timeout=0.4)
    assert result.error_kind == "timeout"
    assert time.monotonic() - started < 1.0


def test_size_cap__streamed_huge_body__stops_reading(allow_loopback, stub):
    stub.route("/huge", Answer(200, stream_bytes=20 * 1024 * 1024))
    result = fetch.fetch(stub.url("/huge"), timeout=5, max_bytes=256 * 1024)
    assert result.error_kind == "too_large"
    assert "262,144-byte limit" in result.error
    assert len(result.body) == 0


def test_size_cap__declared_length__is_refused_before_reading(allow_loopback, stub):
    stub.route("/big", Answer(200, body="y" * 300_000))
    result = fetch.fetch(stub.url("/big"), timeout=5, max_bytes=100_000)
    assert result.error_kind == "too_large" and "300,000 bytes" in result.error


def test_proxies_from_the_environment__are_ignored(allow_loopback, stub, listener, monkeypatch):
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{listener.port}")
    stub.route("/ok", Answer(200, {"status": "ok"}))
    result = fetch.fetch(stub.url("/ok"), timeout=2)
    assert result.status_code == 200
    assert listener.accepted == 0


def test_unreachable_port__is_a_connect_error(allow_loopback):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = fetch.fetch(f"http://127.0.0.1:{port}/", timeout=1)
    assert result.error_kind == "connect" and result.status_code is None


@pytest.mark.parametrize(
    ("url", "phrase"),
    [
        ("", "Enter a URL."),
        ("gopher://example.com/", "Only http:// and https://"),
        ("http://", "no host name"),
        ("http://user:secret@example.com/", "credentials in a header"),
        ("http://example.com:99999/", "malformed"),
        ("http://exa mple.com/", "spaces or control characters"),
        ("http://169.254.169.254/", "cloud metadata address"),
    ],
)
def test_url_problem__explains_what_is_wrong(url, phrase, settings):
    settings.SHIPCHECK_FETCH_ALLOWLIST = []
    assert phrase in fetch.url_problem(url)


def test_tls__certificate_expiry_is_read(allow_loopback, settings, certificate):
    settings.SHIPCHECK_FETCH_CA_FILE = certificate[0]
    server = StubServer(tls=certificate)
    try:
        server.route("/healthz", Answer(200, {"status": "ok"}))
        result = fetch.fetch(server.url("/healthz"), timeout=3)
    finally:
        server.stop()
    assert result.status_code == 200
    days = (result.tls_not_after.timestamp() - time.time()) / 86400
    assert 4 < days <= 5


def test_tls__untrusted_certificate__is_a_tls_error(allow_loopback, settings, certificate):
    settings.SHIPCHECK_FETCH_CA_FILE = ""
    server = StubServer(tls=certificate)
    try:
        server.route("/healthz", Answer(200))
        result = fetch.fetch(server.url("/healthz"), timeout=3)
    finally:
        server.stop()
    assert result.error_kind == "tls"
    assert "CERTIFICATE_VERIFY_FAILED" in result.error or "certificate" in result.error.lower()
