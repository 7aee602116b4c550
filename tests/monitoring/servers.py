"""Real HTTP servers for the monitoring tests, bound to 127.0.0.1 on a free port.

``StubServer`` answers each path with a function of the request, so a test
says what an endpoint does: healthy, failing, flapping, slow drip, huge body,
Prometheus-shaped answers with "NaN", empty results or errors.
``CountingListener`` is a bare socket that only counts the connections it
accepts: the SSRF tests point requests at it and expect zero.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Answer:
    status: int = 200
    body: bytes | str | dict | list = b""
    headers: dict[str, str] = field(default_factory=dict)
    # Send the body one byte at a time, this many seconds apart (a slow drip).
    drip_seconds: float = 0.0
    # Wait this long before answering (a hanging endpoint).
    delay_seconds: float = 0.0
    # Claim a body of this length but send it as a stream of this many bytes.
    stream_bytes: int = 0


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep test output quiet
        pass

    def _serve(self):
        server: StubServer = self.server.stub  # type: ignore[attr-defined]
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        seen = Seen(
            self.command, parts.path, parse_qs(parts.query), dict(self.headers.items()), body
        )
        with server.lock:
            server.hits[parts.path] += 1
            server.requests.append(seen)
        route = server.routes.get(parts.path)
        answer = route(seen) if route else Answer(404, {"error": "no such path"})
        if answer.delay_seconds:
            server.stopping.wait(answer.delay_seconds)
        payload = answer.body
        if isinstance(payload, dict | list):
            payload = json.dumps(payload).encode()
            answer.headers.setdefault("Content-Type", "application/json")
        elif isinstance(payload, str):
            payload = payload.encode()
        try:
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            if answer.stream_bytes:
                self.send_header("Content-Type", "application/octet-stream")
                self.end_headers()
                chunk = b"x" * 65536
                sent = 0
                while sent < answer.stream_bytes and not server.stopping.is_set():
                    self.wfile.write(chunk)
                    sent += len(chunk)
                self.close_connection = True
                return
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if answer.drip_seconds:
                for byte in payload:
                    if server.stopping.wait(answer.drip_seconds):
                        break
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
            else:
                self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_POST = do_HEAD = _serve


class StubServer:
    def __init__(self, host: str = "127.0.0.1", tls: tuple[str, str] | None = None):
        self.routes: dict = {}
        self.hits: Counter = Counter()
        self.requests: list[Seen] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.httpd = ThreadingHTTPServer((host, 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.stub = self  # type: ignore[attr-defined]
        self.scheme = "http"
        if tls:
            import ssl

            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
            self.scheme = "https"
        self.host = host
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def url(self, path: str = "/") -> str:
        return f"{self.scheme}://{self.host}:{self.port}{path}"

    def route(self, path: str, answer):
        """``answer`` is an ``Answer`` (always the same) or a function of the request."""
        self.routes[path] = answer if callable(answer) else (lambda _seen: answer)
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()


class CountingListener:
    """Accepts connections on a loopback port and counts them; answers nothing."""

    def __init__(self, family=socket.AF_INET, host: str = "127.0.0.1"):
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while not self._stop.is_set():
            try:
                conn, _addr = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.accepted += 1
            conn.close()

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(timeout=2)
        self.sock.close()


# --- Prometheus-shaped answers -----------------------------------------------------


def prom_vector(*values) -> Answer:
    result = [
        {"metric": {"instance": f"i{n}"}, "value": [time.time(), str(v)]}
        for n, v in enumerate(values)
    ]
    return Answer(200, {"status": "success", "data": {"resultType": "vector", "result": result}})


def prom_scalar(value) -> Answer:
    return Answer(
        200,
        {
            "status": "success",
            "data": {"resultType": "scalar", "result": [time.time(), str(value)]},
        },
    )


def prom_error(message: str = "parse error at char 5", status: int = 400) -> Answer:
    return Answer(status, {"status": "error", "errorType": "bad_data", "error": message})


def by_query(table: dict):
    """A Prometheus endpoint answering per query text: ``{"error_rate": prom_vector(0.01)}``."""

    def answer(seen: Seen) -> Answer:
        query = (seen.query.get("query") or [""])[0]
        found = table.get(query)
        if callable(found):
            return found(seen)
        return found or Answer(
            200, {"status": "success", "data": {"resultType": "vector", "result": []}}
        )

    return answer


def sequence(*answers: Answer):
    """Answer with each in turn, then keep repeating the last (flapping, degrading …)."""
    state = {"n": 0}
    lock = threading.Lock()

    def answer(_seen: Seen) -> Answer:
        with lock:
            index = min(state["n"], len(answers) - 1)
            state["n"] += 1
        return answers[index]

    return answer
