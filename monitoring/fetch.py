"""Fetch URLs that users typed in, without opening a way into the internal network.

Health and metric URLs belong to users, and the workers that poll them sit
inside the network. So every request here:

* refuses loopback, private, link-local, shared (100.64/10), reserved and
  cloud-metadata addresses, IPv4-mapped / 6to4 / NAT64 IPv6 forms included.
  The check runs on the *resolved* addresses at connect time, for every
  connection, so it also covers each redirect hop and names that resolve to
  internal addresses; we then connect to exactly the address we checked (no
  second lookup that a rebinding DNS server could answer differently);
* skips that check only for hosts named in ``settings.SHIPCHECK_FETCH_ALLOWLIST``
  (exact host names or IP literals, ``.example.internal`` for a domain and its
  subdomains, or a CIDR such as ``10.1.2.0/24`` for IP-literal hosts);
* has one total deadline: DNS, connect, TLS and every read share it, so a
  server that drips one byte a second cannot hold a worker past it;
* stops reading at a size cap, asks for no compression and never decompresses;
* ignores proxy variables from the environment (``trust_env=False``).

``fetch`` never raises for anything the remote side does: the answer is a
``FetchResult`` with a short error a person can read.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import ssl
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import certifi
import httpcore2 as httpcore
import httpx2 as httpx
from django.conf import settings

logger = logging.getLogger(__name__)
# httpx2 logs every request at INFO; a worker polling hundreds of checks would
# drown the log, and the samples already record each request.
logging.getLogger("httpx2").setLevel(logging.WARNING)

# A health answer or an instant query result is a few kilobytes; 1 MiB leaves
# room for verbose endpoints while bounding what a hostile one can make us hold.
DEFAULT_MAX_BYTES = 1024 * 1024
MAX_REDIRECTS = 5
# The longest any single check may wait, whatever its configuration says.
MAX_TIMEOUT_SECONDS = 30.0
USER_AGENT = "Shipcheck-monitor/1.0"

# Addresses cloud providers serve instance metadata and credentials on.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200")
)
SHARED_NETWORK = ipaddress.ip_network("100.64.0.0/10")
NAT64_NETWORK = ipaddress.ip_network("64:ff9b::/96")


class AddressRefused(Exception):
    """The host resolves only to addresses we do not fetch from."""


# --- Address policy ------------------------------------------------------------


def address_refusal(address: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why we refuse to connect to ``address`` (a phrase), or None when it is public."""
    try:
        ip = ipaddress.ip_address(str(address).split("%", 1)[0])
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or (ip.sixtofour if ip.sixtofour else None)
        if embedded is None and ip in NAT64_NETWORK:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            inner = address_refusal(embedded)
            return f"an IPv6 form of {embedded}, {inner}" if inner else None
        if ip.teredo:
            return "a Teredo tunnel address"
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if ip.is_unspecified:
        return "the unspecified address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in SHARED_NETWORK:
        return "a shared (carrier-grade NAT) address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_private:
        return "a private address"
    if ip.is_reserved or not ip.is_global:
        return "a reserved address"
    return None


def normalise_host(host: str) -> str:
    return (host or "").strip().strip("[]").rstrip(".").lower()


def allowlist() -> tuple[str, ...]:
    return tuple(
        normalise_host(h) for h in getattr(settings, "SHIPCHECK_FETCH_ALLOWLIST", ()) if h.strip()
    )


def host_allowlisted(host: str, entries: tuple[str, ...] | None = None) -> bool:
    """Is ``host`` (as written in the URL) on the allowlist?"""
    host = normalise_host(host)
    if not host:
        return False
    for entry in allowlist() if entries is None else entries:
        if "/" in entry:
            try:
                if ipaddress.ip_address(host) in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                continue
        elif entry.startswith((".", "*.")):
            suffix = entry.lstrip("*")
            if host == suffix[1:] or host.endswith(suffix):
                return True
        elif host == entry:
            return True
    return False


# One small pool for DNS lookups, so a resolver that hangs cannot outlast the deadline.
_resolver = ThreadPoolExecutor(max_workers=8, thread_name_prefix="shipcheck-dns")


def _after_fork() -> None:
    """A forked worker (Celery prefork) gets fresh pools: threads and sockets do not survive a fork."""
    global _resolver, _clients, _clients_lock
    _resolver = ThreadPoolExecutor(max_workers=8, thread_name_prefix="shipcheck-dns")
    _clients, _clients_lock = {}, threading.Lock()


def resolve(host: str, port: int, timeout: float) -> list[str]:
    """The addresses ``host`` resolves to (IP literals, hex and decimal forms included)."""
    host = normalise_host(host)
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    future = _resolver.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        infos = future.result(timeout=max(timeout, 0.001))
    except FutureTimeout:
        raise httpcore.ConnectTimeout(f"resolving {host} took too long") from None
    except socket.gaierror as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc.strerror or exc}") from None
    seen: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        address = str(sockaddr[0]).split("%", 1)[0]
        if address not in seen:
            seen.append(address)
    return seen


def refusal_message(host: str, address: str, why: str) -> str:
    shown = normalise_host(host)
    try:
        literal = ipaddress.ip_address(shown) == ipaddress.ip_address(address)
    except ValueError:
        literal = False
    subject = f"{shown} is" if literal else f"{shown} resolves to {address}, which is"
    return (
        f"Refused: {subject} {why}. Internal endpoints must be listed in SHIPCHECK_FETCH_ALLOWLIST."
    )


def url_problem(url: str, *, resolve_names: bool = True) -> str | None:
    """Why ``url`` cannot be a check's URL (a sentence), or None. Used when saving configuration."""
    url = (url or "").strip()
    if not url:
        return "Enter a URL."
    if len(url) > 500:
        return "The URL is longer than 500 characters."
    if any(ch in url for ch in "\r\n\t\x00 "):
        return "The URL contains spaces or control characters."
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "The URL is malformed (check the host and port)."
    if parts.scheme not in ("http", "https"):
        return (
            f"Only http:// and https:// URLs can be checked, not '{parts.scheme or 'no scheme'}'."
        )
    if not parts.hostname:
        return "The URL has no host name."
    if parts.username or parts.password:
        return "Put credentials in a header, not in the URL."
    host = parts.hostname
    if "%" in host:
        return _encoded_host_problem(url, host, resolve_names=resolve_names)
    if host_allowlisted(host):
        return None
    if not resolve_names:
        try:
            literal = str(ipaddress.ip_address(normalise_host(host)))
        except ValueError:
            return None
        why = address_refusal(literal)
        return refusal_message(host, literal, why) if why else None
    try:
        addresses = resolve(host, port or (443 if parts.scheme == "https" else 80), timeout=3.0)
    except (httpcore.ConnectError, httpcore.ConnectTimeout):
        # A name that does not resolve yet is not dangerous; the poll will say it fails.
        return None
    for address in addresses:
        why = address_refusal(address)
        if why:
            return refusal_message(host, address, why)
    return None


def _encoded_host_problem(url: str, host: str, *, resolve_names: bool) -> str:
    """A percent-encoded host (``%31%32%37.0.0.1``, ``127%2E0%2E0%2E1``, ``127.0.0.1%00.x``).

    It is refused with the same sentence as the host it decodes to, when that one is refused
    (a NUL ends the name, as it would for a resolver written in C), and otherwise because no
    health or metric endpoint needs an encoded host name.
    """
    decoded = unquote(host).split("\x00", 1)[0]
    if decoded and "%" not in decoded:
        parts = urlsplit(url)
        netloc = parts.netloc.rpartition("@")[2]
        port = netloc.rpartition(":")[2] if netloc.rfind(":") > netloc.rfind("]") else ""
        shown = f"[{decoded}]" if ":" in decoded else decoded
        plain = parts._replace(netloc=f"{shown}:{port}" if port else shown).geturl()
        if all(ch not in plain for ch in "\r\n\t "):
            problem = url_problem(plain, resolve_names=resolve_names)
            if problem and problem.startswith("Refused"):
                return problem
    return "Write the host name without percent-encoding (no % in the host)."


# --- The deadline ---------------------------------------------------------------

_local = threading.local()


def _remaining(timeout: float | None, error=httpcore.ReadTimeout) -> float:
    deadline = getattr(_local, "deadline", None)
    if deadline is None:
        return timeout if timeout is not None else MAX_TIMEOUT_SECONDS
    left = deadline - time.monotonic()
    if left <= 0:
        raise error("the total deadline for this request passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """Clips every socket operation to what is left of the request's total deadline."""

    def __init__(self, inner: httpcore.NetworkStream):
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _remaining(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _remaining(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        clipped = _remaining(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, clipped))

    def get_extra_info(self, info: str):
        return self._inner.get_extra_info(info)


class _GuardedBackend(httpcore.SyncBackend):
    """Resolves, checks and connects to the checked address itself (see module docstring)."""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        timeout = _remaining(timeout, httpcore.ConnectTimeout)
        addresses = resolve(host, port, timeout)
        trusted = host_allowlisted(host)
        permitted, refusals = [], []
        for address in addresses:
            why = None if trusted else address_refusal(address)
            if why:
                refusals.append(refusal_message(host, address, why))
            else:
                permitted.append(address)
        if not permitted:
            raise AddressRefused(refusals[0] if refusals else f"{host} has no address")
        last_error: Exception | None = None
        for address in permitted:
            try:
                stream = super().connect_tcp(
                    address,
                    port,
                    _remaining(timeout, httpcore.ConnectTimeout),
                    local_address,
                    socket_options,
                )
                return _DeadlineStream(stream)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
        raise last_error  # type: ignore[misc]  # set: permitted is not empty and every try failed


class _GuardedTransport(httpx.HTTPTransport):
    def __init__(self, *, ssl_context: ssl.SSLContext, limits: httpx.Limits):
        super().__init__(verify=ssl_context, trust_env=False, limits=limits)
        # httpx2 builds its httpcore2 pool without a way to pass a network backend;
        # rebuild it with ours (same options). httpx2 is pinned to a minor series in pyproject.
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_GuardedBackend(),
        )


def _ssl_context() -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=certifi.where())
    extra = getattr(settings, "SHIPCHECK_FETCH_CA_FILE", "")
    if extra:
        context.load_verify_locations(cafile=extra)
    return context


_clients: dict[tuple, httpx.Client] = {}
_clients_lock = threading.Lock()
os.register_at_fork(after_in_child=_after_fork)


def client() -> httpx.Client:
    """One pooled client per allowlist (connections validated under one list never serve another)."""
    key = (allowlist(), getattr(settings, "SHIPCHECK_FETCH_CA_FILE", ""))
    with _clients_lock:
        found = _clients.get(key)
        if found is None:
            limits = httpx.Limits(
                max_connections=256, max_keepalive_connections=64, keepalive_expiry=30
            )
            found = httpx.Client(
                transport=_GuardedTransport(ssl_context=_ssl_context(), limits=limits),
                trust_env=False,
                follow_redirects=True,
                max_redirects=MAX_REDIRECTS,
                headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"},
            )
            _clients[key] = found
        return found


# --- Fetching --------------------------------------------------------------------


@dataclass(frozen=True)
class FetchResult:
    status_code: int | None = None
    body: bytes = b""
    elapsed_ms: float = 0.0
    error: str = ""
    # refused | timeout | connect | too_large | tls | protocol | invalid
    error_kind: str = ""
    content_type: str = ""
    tls_not_after: datetime | None = None
    # The answer's headers (lower-case names), e.g. for a Retry-After.
    response_headers: dict[str, str] = field(default_factory=dict)

    @property
    def answered(self) -> bool:
        return self.status_code is not None and not self.error


def _tls_not_after(response: httpx.Response) -> datetime | None:
    stream = response.extensions.get("network_stream")
    ssl_object = stream.get_extra_info("ssl_object") if stream is not None else None
    if ssl_object is None:
        return None
    cert = ssl_object.getpeercert()
    if not cert or "notAfter" not in cert:
        return None
    return datetime.fromtimestamp(ssl.cert_time_to_seconds(cert["notAfter"]), tz=UTC)


def fetch(
    url: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    timeout: float = 5.0,
    max_bytes: int = DEFAULT_MAX_BYTES,
    params: dict[str, str] | None = None,
    content: bytes | None = None,
    follow_redirects: bool = True,
) -> FetchResult:
    """GET (or HEAD/POST) ``url`` under the rules in the module docstring."""
    timeout = max(0.05, min(float(timeout), MAX_TIMEOUT_SECONDS))
    started = time.monotonic()
    _local.deadline = started + timeout

    def result(**kwargs) -> FetchResult:
        return FetchResult(elapsed_ms=round((time.monotonic() - started) * 1000, 1), **kwargs)

    try:
        with client().stream(
            method,
            url,
            headers=headers or {},
            params=params,
            content=content,
            timeout=httpx.Timeout(timeout),
            follow_redirects=follow_redirects,
        ) as response:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                return result(
                    status_code=response.status_code,
                    error_kind="too_large",
                    error=f"The response is {int(declared):,} bytes; the limit is {max_bytes:,}.",
                )
            tls_not_after = _tls_not_after(response) if response.url.scheme == "https" else None
            chunks, size = [], 0
            for chunk in response.iter_raw():
                size += len(chunk)
                if size > max_bytes:
                    return result(
                        status_code=response.status_code,
                        error_kind="too_large",
                        error=f"The response passed the {max_bytes:,}-byte limit; reading stopped.",
                    )
                chunks.append(chunk)
                if time.monotonic() > _local.deadline:
                    raise httpx.ReadTimeout("the total deadline for this request passed")
            return result(
                status_code=response.status_code,
                body=b"".join(chunks),
                content_type=response.headers.get("content-type", ""),
                tls_not_after=tls_not_after,
                response_headers={k.lower(): v for k, v in response.headers.items()},
            )
    except AddressRefused as exc:
        return result(error=str(exc), error_kind="refused")
    except httpx.TimeoutException:
        return result(error=f"No complete answer within {timeout:g} s.", error_kind="timeout")
    except httpx.TooManyRedirects:
        return result(error=f"More than {MAX_REDIRECTS} redirects.", error_kind="protocol")
    except httpx.ConnectError as exc:
        text = str(exc) or "connection failed"
        kind = "tls" if "SSL" in text or "certificate" in text.lower() else "connect"
        return result(error=_short(f"Cannot connect: {text}"), error_kind=kind)
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        return result(error=_short(f"Invalid URL: {exc}"), error_kind="invalid")
    except httpx.HTTPError as exc:
        return result(
            error=_short(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__),
            error_kind="protocol",
        )
    except (ValueError, UnicodeError, ssl.SSLError, OSError) as exc:
        return result(error=_short(f"{type(exc).__name__}: {exc}"), error_kind="protocol")
    except Exception as exc:  # noqa: BLE001 - a poll must end as a recorded sample, never a crash
        logger.exception("Unexpected error fetching %s", url)
        return result(
            error=_short(f"Unexpected error: {type(exc).__name__}"), error_kind="protocol"
        )
    finally:
        _local.deadline = None


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
