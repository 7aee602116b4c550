"""Conditional reads for what pipelines poll: an ETag that changes whenever the project changes.

Every state change in Shipcheck writes an audit event in the same transaction, and every
event of a project carries its ``project_id``; so the newest event's sequence number in a
project is a version of everything in it (one lookup on the ``audit_project_seq`` index).
A poll that sends the ETag back in ``If-None-Match`` gets ``304 Not Modified`` without the
answer being built. The tag is coarser than the resource (another release of the project
changing changes it too), which costs a full answer now and then, never a stale one.
Visibility is checked before the tag is compared, so a 304 never reveals what a caller may
not see.
"""

from __future__ import annotations

from django.db.models import Max
from rest_framework import status
from rest_framework.response import Response

from audit.models import AuditEvent


def project_etag(project_id: int, kind: str) -> str:
    seq = AuditEvent.objects.filter(project_id=project_id).aggregate(top=Max("seq"))["top"] or 0
    return f'W/"{kind}-{project_id}-{seq}"'


def not_modified(request, etag: str) -> Response | None:
    """A 304 answer when the caller's ``If-None-Match`` holds ``etag``, else None."""
    sent = request.META.get("HTTP_IF_NONE_MATCH", "")
    tags = {tag.strip() for tag in sent.split(",") if tag.strip()}
    if etag in tags or "*" in tags:
        response = Response(status=status.HTTP_304_NOT_MODIFIED)
        response["ETag"] = etag
        return response
    return None


def tagged(response: Response, etag: str) -> Response:
    response["ETag"] = etag
    # Caches may keep the answer but must ask again before using it (it changes any time).
    response["Cache-Control"] = "private, no-cache"
    return response
