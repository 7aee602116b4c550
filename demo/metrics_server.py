"""A small metrics server for the demo: ``python -m demo.metrics_server --port 8001``.

It plays the services the demo's checks watch:

* ``GET /healthz`` — a health endpoint (``{"status": "ok"}``, or 503 when degraded);
* ``GET /api/v1/query?query=...`` — a Prometheus-shaped instant query answering
  one series: error rate (%), p95 latency (ms), CPU (%) or memory (%), picked by
  words in the query; gentle noise around steady values;
* ``GET /metrics.json`` — the same numbers as a JSON document;
* ``POST /mode?set=degraded`` (or ``healthy``, ``outage``) — change what it
  answers, to watch a canary fail, or the metrics provider go away, live.

Standard library only; it binds to 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

MODES = ("healthy", "degraded", "outage")

# Steady values and how far they wander; "degraded" is what a bad release looks like.
HEALTHY = {
    "error_rate": (0.4, 0.12),
    "p95_ms": (180.0, 14.0),
    "cpu": (42.0, 6.0),
    "memory": (58.0, 2.0),
}
DEGRADED = {
    "error_rate": (6.5, 1.2),
    "p95_ms": (1350.0, 160.0),
    "cpu": (91.0, 4.0),
    "memory": (77.0, 2.0),
}


class State:
    def __init__(self, mode: str):
        self.mode = mode
        self.lock = threading.Lock()
        self.started = time.time()

    def value(self, name: str) -> float:
        table = DEGRADED if self.mode == "degraded" else HEALTHY
        centre, spread = table[name]
        # A slow wave plus noise, so charts look alive without crossing the demo's bounds.
        wave = math.sin((time.time() - self.started) / 45.0) * spread * 0.5
        return round(max(centre + wave + random.uniform(-spread, spread) * 0.5, 0.0), 3)

    def snapshot(self) -> dict:
        return {
            "error_rate": self.value("error_rate"),
            "latency": {"p95": self.value("p95_ms")},
            "cpu": self.value("cpu"),
            "memory": self.value("memory"),
            "mode": self.mode,
        }


def metric_for(query: str) -> str:
    text = query.lower()
    if "cpu" in text:
        return "cpu"
    if "memory" in text or "mem" in text:
        return "memory"
    if "latency" in text or "duration" in text or "p95" in text or "quantile" in text:
        return "p95_ms"
    return "error_rate"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: State

    def log_message(self, *args):
        pass

    def _send(self, status: int, payload) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802 - the http.server API
        parts = urlsplit(self.path)
        state = self.state
        if parts.path == "/healthz":
            if state.mode == "degraded":
                return self._send(503, {"status": "degraded"})
            return self._send(200, {"status": "ok", "mode": state.mode})
        if parts.path in ("/api/v1/query", "/prometheus/api/v1/query"):
            if state.mode == "outage":
                return self._send(
                    503,
                    {
                        "status": "error",
                        "errorType": "unavailable",
                        "error": "the demo Prometheus is switched off",
                    },
                )
            query = (parse_qs(parts.query).get("query") or [""])[0]
            if not query.strip():
                return self._send(
                    400, {"status": "error", "errorType": "bad_data", "error": "empty query"}
                )
            value = state.value(metric_for(query))
            return self._send(
                200,
                {
                    "status": "success",
                    "data": {
                        "resultType": "vector",
                        "result": [
                            {"metric": {"job": "storefront"}, "value": [time.time(), str(value)]}
                        ],
                    },
                },
            )
        if parts.path == "/metrics.json":
            return self._send(200, state.snapshot())
        return self._send(404, {"error": "no such path"})

    def do_POST(self):  # noqa: N802
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(min(length, 65536))
        if parts.path == "/mode":
            mode = (parse_qs(parts.query).get("set") or [""])[0]
            if mode not in MODES:
                return self._send(400, {"error": f"mode must be one of {', '.join(MODES)}"})
            with self.state.lock:
                self.state.mode = mode
            return self._send(200, {"mode": mode})
        if parts.path == "/rollback":
            # Stands in for a deployment tool's rollback webhook.
            return self._send(
                202, {"accepted": True, "idempotency_key": self.headers.get("Idempotency-Key", "")}
            )
        return self._send(404, {"error": "no such path"})


def serve(host: str = "127.0.0.1", port: int = 8001, mode: str = "healthy") -> ThreadingHTTPServer:
    handler = type("DemoHandler", (Handler,), {"state": State(mode)})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Shipcheck's demo health and metrics server.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--mode", choices=MODES, default="healthy")
    args = parser.parse_args(argv)
    server = serve(args.host, args.port, args.mode)
    print(
        f"Demo metrics server on http://{args.host}:{args.port}/ ({args.mode}); "  # noqa: T201
        f"POST /mode?set=degraded|healthy|outage to change it.",
        flush=True,
    )
    try:
        server.serve_forever(poll_interval=0.25)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
