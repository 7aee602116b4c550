"""OpenAPI helpers shared by every app's API: the error body, documented once."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

_ERROR_TEXT = {
    400: "Invalid input: `details` names each field and what is wrong with it.",
    401: "No credentials, or an invalid, expired or revoked API token.",
    403: "Visible, but this person or token may not do this.",
    404: "No such object, or not visible to the caller (both look the same).",
    409: "The object's state does not allow this now; `details` says why.",
}


class ErrorSerializer(serializers.Serializer):
    """Every API error: ``{"error": code, "message": text, "details": {...}}``."""

    error = serializers.CharField(help_text="A stable machine-readable code, e.g. `gate_closed`.")
    message = serializers.CharField(help_text="A sentence a person can read.")
    details = serializers.DictField(help_text="Field errors or the facts behind the error.")


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """``responses={**error_responses(400, 404)}`` for ``extend_schema``."""
    return {
        status: OpenApiResponse(
            response=ErrorSerializer, description=_ERROR_TEXT.get(status, "Error.")
        )
        for status in statuses
    }
