"""A small HTTP client for /api/v1/ci/ with retries that are safe to make.

Every POST carries an Idempotency-Key generated once per command, and the
same key is sent again on each retry: a retry after a timeout cannot create
a second release or start a second deployment.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx2 as httpx

from shipcheck_cli import __version__

# Statuses that mean "try again shortly"; everything else is an answer.
RETRY_STATUSES = frozenset({429, 502, 503, 504})
MAX_RETRY_AFTER_SECONDS = 30.0


class CliError(Exception):
    """Ends the command with ``exit_code`` after printing ``message`` to stderr."""

    exit_code = 2

    def __init__(self, message: str, exit_code: int | None = None):
        super().__init__(message)
        self.message = message
        if exit_code is not None:
            self.exit_code = exit_code


class NetworkError(CliError):
    exit_code = 4


class ApiError(CliError):
    """Shipcheck refused the request; ``body`` is its error answer."""

    exit_code = 3

    def __init__(self, *, status: int, body: dict):
        self.status = status
        self.body = body
        details = body.get("details")
        self.code = str(body.get("error", ""))
        self.details = details if isinstance(details, dict) else {}
        super().__init__(str(body.get("message") or f"HTTP {status}"))


class Client:
    def __init__(
        self,
        *,
        url: str,
        token: str,
        timeout: float = 30.0,
        retries: int = 3,
        transport: httpx.BaseTransport | None = None,
    ):
        self.retries = max(retries, 0)
        self.http = httpx.Client(
            base_url=url.rstrip("/") + "/",
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                "User-Agent": f"shipcheck-cli/{__version__}",
            },
            timeout=timeout,
            transport=transport,
        )

    def close(self) -> None:
        self.http.close()

    def get(self, path: str, params: dict | None = None) -> dict:
        return self._send("GET", path, params=params)[1]

    def patch(self, path: str, body: dict) -> dict:
        return self._send("PATCH", path, json=body)[1]

    def post(self, path: str, body: dict) -> tuple[int, dict]:
        return self._send("POST", path, json=body, headers={"Idempotency-Key": str(uuid.uuid4())})

    def _send(self, method: str, path: str, **kwargs: Any) -> tuple[int, dict]:
        url = "api/v1/" + path.lstrip("/")
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self.http.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                if attempt <= self.retries:
                    time.sleep(_backoff(attempt))
                    continue
                raise NetworkError(
                    f"Could not reach Shipcheck at {self.http.base_url}: {exc}"
                ) from None
            body = _json(response)
            busy = (
                response.status_code == 409
                and body is not None
                and body.get("error") == "idempotency_in_progress"
            )
            if (response.status_code in RETRY_STATUSES or busy) and attempt <= self.retries:
                delay = _retry_after(response)
                time.sleep(_backoff(attempt) if delay is None else delay)
                continue
            if response.status_code >= 500:
                raise NetworkError(
                    f"Shipcheck answered HTTP {response.status_code} for {method} /{url}."
                )
            if body is None:
                raise NetworkError(
                    f"Shipcheck answered HTTP {response.status_code} without JSON for {method} /{url}; "
                    "is SHIPCHECK_URL the address of Shipcheck?"
                )
            if response.status_code >= 400:
                raise ApiError(status=response.status_code, body=body)
            return response.status_code, body


def _json(response: httpx.Response) -> dict | None:
    if "json" not in response.headers.get("content-type", ""):
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else {"items": body}


def _backoff(attempt: int) -> float:
    return min(0.5 * 2 ** (attempt - 1), 8.0)


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return min(
            max(float(response.headers.get("Retry-After", "")), 0.0), MAX_RETRY_AFTER_SECONDS
        )
    except ValueError:
        return None
