"""OpenAPI for the parts of the API contract that hold for every endpoint.

Some errors can come from any operation, whichever app owns it: the body
size limit (413), the media type (415), the per-token rate limit (429), and
on POST the Idempotency-Key answers (409 while the first request runs, 422
for a key reused with another body). ``document_common_errors`` adds them to
every operation that does not document them already, with the shared error
body, so the schema tells the truth and clients can rely on it.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse

from core.api.schema import ErrorSerializer

ERROR_REF = {"$ref": "#/components/schemas/Error"}

ERROR_TEXT = {
    400: "Invalid input or malformed JSON: `message` says what, `details` names each field.",
    401: "No credentials, or an invalid, expired or revoked API token.",
    403: "The caller may not do this (e.g. the token lacks a scope: `missing_scope`).",
    404: "No such object or endpoint, or not visible to the caller (both look the same).",
    409: "The state does not allow this now (`gate_closed`, `no_running_deployment`, ...), or a "
    "request with the same Idempotency-Key is still running (`idempotency_in_progress`).",
    413: "The request body is larger than the configured limit (`payload_too_large`).",
    415: "The body is not JSON (`unsupported_media_type`).",
    422: "The Idempotency-Key was already used for a different request (`idempotency_key_reused`).",
    429: "The API token made too many requests (`rate_limited`); retry after `Retry-After` seconds.",
}

ERROR_EXAMPLES = {
    400: {
        "error": "invalid",
        "message": "environment: This field is required.",
        "details": {"environment": ["This field is required."]},
    },
    401: {
        "error": "authentication_failed",
        "message": "This API token has been revoked.",
        "details": {},
    },
    403: {
        "error": "missing_scope",
        "message": "This API token lacks the scope 'deployments'; create a token with it.",
        "details": {"missing_scopes": ["deployments"]},
    },
    404: {"error": "not_found", "message": "No release 9.9.9 in Payments.", "details": {}},
    409: {
        "error": "no_running_deployment",
        "message": "No deployment of 1.3.0 is running in staging; "
        "report it as started before reporting how it ended.",
        "details": {},
    },
    413: {
        "error": "payload_too_large",
        "message": "The request body is larger than the 5242880 bytes this API accepts.",
        "details": {"limit_bytes": 5242880},
    },
    415: {
        "error": "unsupported_media_type",
        "message": 'Unsupported media type "text/plain" in request.',
        "details": {},
    },
    422: {
        "error": "idempotency_key_reused",
        "message": "This Idempotency-Key was already used for a "
        "different request; use a new key for a new request.",
        "details": {"header": "Idempotency-Key", "first_used_for": "POST /api/v1/ci/releases/"},
    },
    429: {
        "error": "rate_limited",
        "message": "Request was throttled. Expected available in 12 seconds.",
        "details": {"retry_after_seconds": 12},
    },
}

IDEMPOTENCY_HEADER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Any unique string (a UUID is ideal), at most 255 visible ASCII characters. A retry "
    "with the same key and body replays the first answer (header `Idempotent-Replayed: true`); the same "
    "key with another body is refused (422). Keys are per token (or per person) and kept 24 hours.",
    "schema": {"type": "string", "maxLength": 255, "pattern": "^[!-~]+$"},
}


def ci_errors(*statuses: int) -> dict[int, OpenApiResponse]:
    """Error responses with their description and an example, for ``extend_schema``."""
    return {
        status: OpenApiResponse(
            response=ErrorSerializer,
            description=ERROR_TEXT.get(status, "Error."),
            examples=[
                OpenApiExample(
                    f"error {status}",
                    value=ERROR_EXAMPLES[status],
                    response_only=True,
                    status_codes=[str(status)],
                )
            ]
            if status in ERROR_EXAMPLES
            else [],
        )
        for status in statuses
    }


def _common_statuses(method: str) -> tuple[int, ...]:
    statuses = [400, 401, 403, 404, 429]
    if method in ("post", "put", "patch"):
        statuses += [413, 415]
    if method == "delete":
        statuses += [413]
    if method == "post":
        statuses += [409, 422]
    return tuple(statuses)


def document_common_errors(result, generator, request, public):
    """drf-spectacular post-processing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"])."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault(
        "Error",
        {
            "type": "object",
            "description": 'Every API error: {"error": code, "message": text, "details": {...}}.',
            "properties": {
                "error": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "object", "additionalProperties": {}},
            },
            "required": ["error", "message", "details"],
        },
    )
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete", "head", "options"):
                continue
            responses = operation.setdefault("responses", {})
            for status in _common_statuses(method):
                if str(status) in responses:
                    continue
                responses[str(status)] = {
                    "description": ERROR_TEXT[status],
                    "content": {
                        "application/json": {
                            "schema": ERROR_REF,
                            "examples": {f"error{status}": {"value": ERROR_EXAMPLES[status]}},
                        }
                    },
                }
            if method == "post":
                parameters = operation.setdefault("parameters", [])
                if not any(
                    p.get("name") == "Idempotency-Key" and p.get("in") == "header"
                    for p in parameters
                ):
                    parameters.append(dict(IDEMPOTENCY_HEADER))
    return result
