"""Body size limit and ``Idempotency-Key`` handling for every POST under /api/.

This sits in front of all API views, whichever app owns them, so that every
POST gets the same retry semantics (see ``integrations.idempotency``).
It needs to know the caller before the view runs, so it authenticates an API
token itself; a token that fails authentication is left to the view, which
answers 401.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError
from django.http import HttpResponse, JsonResponse
from rest_framework.exceptions import AuthenticationFailed

from core.api.errors import error_body
from integrations.idempotency import (
    idempotency_abandon,
    idempotency_claim,
    idempotency_complete,
    key_problem,
    request_fingerprint,
)
from projects.authentication import ApiTokenAuthentication

logger = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def _error(
    status: int, code: str, message: str, details: dict | None = None, **headers
) -> JsonResponse:
    response = JsonResponse(error_body(code, message, details), status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def body_too_large() -> JsonResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return _error(
        413,
        "payload_too_large",
        f"The request body is larger than the {limit} bytes this API accepts.",
        {"limit_bytes": limit},
    )


def caller_scope(request) -> str | None:
    """Whose keys these are: the token's, or the signed-in person's. None: anonymous."""
    try:
        authenticated = ApiTokenAuthentication().authenticate(request)
    except AuthenticationFailed:
        return None
    if authenticated is not None:
        return f"token:{authenticated[1].pk}"
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return None


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not _is_api(request) or request.method not in _BODY_METHODS:
            return self.get_response(request)
        # Reading the body here applies DATA_UPLOAD_MAX_MEMORY_SIZE to every API
        # request; DRF reads the raw stream, which would skip that limit.
        try:
            body = request.body
        except RequestDataTooBig:
            return body_too_large()
        except OSError:
            return _error(400, "malformed_request", "The request body could not be read.")
        key = request.headers.get(HEADER)
        if request.method != "POST" or key is None:
            return self.get_response(request)
        problem = key_problem(key)
        if problem:
            return _error(400, "invalid_idempotency_key", problem, {"header": HEADER})
        try:
            scope = caller_scope(request)
        except DatabaseError:
            scope = None  # the view will meet the same problem and answer it
        if scope is None:
            return self.get_response(request)
        fingerprint = request_fingerprint(
            method=request.method,
            path=request.path,
            query=request.META.get("QUERY_STRING", ""),
            body=body,
        )
        try:
            claim = idempotency_claim(
                scope=scope,
                key=key,
                fingerprint=fingerprint,
                method=request.method,
                path=request.path,
            )
        except DatabaseError:
            # Outside every view, so no other handler would turn this into JSON.
            logger.exception("Could not claim Idempotency-Key %r", key)
            return _error(
                503,
                "unavailable",
                "Shipcheck cannot store the Idempotency-Key right now; retry with the same key.",
                {"header": HEADER},
                Retry_After="5",
            )
        if claim.outcome == "mismatch":
            return _error(
                422,
                "idempotency_key_reused",
                "This Idempotency-Key was already used for a different request; use a new key for a new request.",
                {"header": HEADER, "first_used_for": f"{claim.record.method} {claim.record.path}"},
            )
        if claim.outcome == "busy":
            return _error(
                409,
                "idempotency_in_progress",
                "A request with this Idempotency-Key is still running; retry in a moment to get its answer.",
                {"header": HEADER},
                Retry_After="1",
            )
        if claim.outcome == "replay":
            record = claim.record
            response = HttpResponse(
                bytes(record.response_body),
                status=record.response_status,
                content_type=record.response_content_type or "application/json",
            )
            response[REPLAYED_HEADER] = "true"
            return response

        try:
            response = self.get_response(request)
        except BaseException:
            idempotency_abandon(record=claim.record)
            raise
        if getattr(response, "streaming", False):
            idempotency_abandon(record=claim.record)
            return response
        try:
            idempotency_complete(
                record=claim.record,
                status=response.status_code,
                content_type=response.get("Content-Type", ""),
                body=response.content,
            )
        except Exception:  # noqa: BLE001 - the request itself succeeded; never turn that into an error
            logger.exception("Could not store the answer for Idempotency-Key %r", key)
        return response
