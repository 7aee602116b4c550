"""One error shape for the whole API: {"error": code, "message": text, "details": {...}}."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.exceptions import DomainError

_DRF_CODES = {
    drf.ParseError: "malformed_request",
    drf.AuthenticationFailed: "authentication_failed",
    drf.NotAuthenticated: "not_authenticated",
    drf.PermissionDenied: "forbidden",
    drf.NotFound: "not_found",
    drf.MethodNotAllowed: "method_not_allowed",
    drf.NotAcceptable: "not_acceptable",
    drf.UnsupportedMediaType: "unsupported_media_type",
    drf.Throttled: "rate_limited",
    drf.ValidationError: "invalid",
}


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": code, "message": message, "details": details or {}}


def server_error_body() -> dict[str, Any]:
    """A 500's body: ``details.request_id`` names the request in the logs (core/observability.py).

    Only server errors carry it in the body: there it is the one thing support needs, while the
    details of a refusal are the caller's own fields and an identical refusal stays identical.
    Every answer, errors included, carries the same id in its X-Request-ID header.
    """
    from core.observability import current_request_id

    request_id = current_request_id()
    return error_body(
        "server_error",
        "The server could not answer this request.",
        {"request_id": request_id} if request_id else None,
    )


def _first_message(detail: Any) -> str:
    if isinstance(detail, dict):
        for key, value in detail.items():
            text = _first_message(value)
            return text if key in ("non_field_errors", "detail") else f"{key}: {text}"
        return "Invalid input."
    if isinstance(detail, list):
        return _first_message(detail[0]) if detail else "Invalid input."
    return str(detail)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.message, exc.details), status=exc.status)
    details: dict[str, Any]
    if isinstance(exc, DjangoValidationError):
        details = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = drf.ValidationError(details)
    elif isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "error")
    if isinstance(exc, drf.ValidationError):
        details = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        message = _first_message(exc.detail)
    else:
        details = {}
        message = str(getattr(exc, "detail", exc))
    # Throttled sets ``wait`` in its __init__; drf-stubs do not declare it.
    wait = getattr(exc, "wait", None) if isinstance(exc, drf.Throttled) else None
    if wait is not None:
        details = {"retry_after_seconds": int(wait)}
    response.data = error_body(code, message, details)
    return response
