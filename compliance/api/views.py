"""The audit trail for auditors' tools: events, exports, the release-history report, release records.

Read-only: every view answers GET (and HEAD/OPTIONS) only, so writes get 405.
Filters are the browser's (compliance.filters); tokens need the read scope.
"""

from __future__ import annotations

import json

from django.core.serializers.json import DjangoJSONEncoder
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.selectors import audit_event_page, checkpoints_latest_for
from compliance.api.serializers import (
    AuditEventPageSerializer,
    AuditEventSerializer,
    CheckpointSerializer,
    HistorySerializer,
)
from compliance.filters import audit_filters_parse
from compliance.history import (
    HISTORY_MAX_PAGE_SIZE,
    HISTORY_PAGE_SIZE,
    history_public,
    release_history_page,
)
from compliance.record import record_build
from compliance.views import export_response, pdf_response
from core.api.schema import error_responses
from core.exceptions import ValidationFailed
from releases.selectors import release_get

FILTER_PARAMETERS = [
    OpenApiParameter("project", str, description="Project slug (or id)."),
    OpenApiParameter("release", str, description="Release id, or version together with project."),
    OpenApiParameter("person", str, description="Username, 'token:<name>' or 'shipcheck'."),
    OpenApiParameter("action", str, description="Exact action, or a family ending in '.' or '*'."),
    OpenApiParameter("from", str, description="Start date (YYYY-MM-DD) or date-time, inclusive."),
    OpenApiParameter("to", str, description="End date (inclusive day) or date-time (exclusive)."),
]
MAX_PAGE_SIZE = 200


class _Passthrough(BaseRenderer):
    """Lets clients ask for the file type (JSON stays first, so errors answer JSON)."""

    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes | str):
            return data
        return json.dumps(data, cls=DjangoJSONEncoder).encode("utf-8")


class PdfRenderer(_Passthrough):
    media_type = "application/pdf"
    format = "pdf"


class JsonLinesRenderer(_Passthrough):
    media_type = "application/x-ndjson"
    format = "jsonl"


class CsvRenderer(_Passthrough):
    media_type = "text/csv"
    format = "csv"


class _ReadOnly(APIView):
    http_method_names = ["get", "head", "options"]


def _int_param(request, name: str) -> int | None:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise ValidationFailed(f"'{name}' must be a whole number.", details={name: "not a number"})
    return int(raw)


class AuditEventListView(_ReadOnly):
    @extend_schema(
        summary="Audit events visible to the caller, newest first",
        description="Keyset pages: follow `next` for older events. Never counts the whole trail.",
        parameters=[
            *FILTER_PARAMETERS,
            OpenApiParameter("before", int, description="Events with a smaller sequence number."),
            OpenApiParameter("after", int, description="Events with a larger sequence number."),
            OpenApiParameter(
                "page_size", int, description=f"At most {MAX_PAGE_SIZE} (default 50)."
            ),
        ],
        responses={200: AuditEventPageSerializer, **error_responses(400, 401, 403)},
    )
    def get(self, request):
        filters = audit_filters_parse(request.user, request.query_params)
        size = min(_int_param(request, "page_size") or 50, MAX_PAGE_SIZE) or 50
        page = audit_event_page(
            filters,
            before=_int_param(request, "before"),
            after=_int_param(request, "after"),
            size=size,
        )
        query = request.query_params.copy()
        for key in ("before", "after"):
            query.pop(key, None)

        def link(**cursor):
            q = query.copy()
            q.update(cursor)
            return request.build_absolute_uri(request.path) + "?" + q.urlencode()

        return Response(
            {
                "results": AuditEventSerializer(page.events, many=True).data,
                "next": link(before=page.older) if page.older else None,
                "previous": link(after=page.newer) if page.newer else None,
            }
        )


class _ExportView(_ReadOnly):
    fmt = "jsonl"

    def get(self, request):
        return export_response(request.user, request.query_params, self.fmt)


class AuditExportJsonlView(_ExportView):
    fmt = "jsonl"
    renderer_classes = [JSONRenderer, JsonLinesRenderer]

    @extend_schema(
        summary="Stream the audit trail as JSON Lines (verifiable offline)",
        parameters=FILTER_PARAMETERS,
        responses={
            (200, "application/x-ndjson"): OpenApiTypes.BINARY,
            **error_responses(400, 401, 403),
        },
    )
    def get(self, request):
        return super().get(request)


class AuditExportCsvView(_ExportView):
    fmt = "csv"
    renderer_classes = [JSONRenderer, CsvRenderer]

    @extend_schema(
        summary="Stream the audit trail as CSV (formula-safe)",
        parameters=FILTER_PARAMETERS,
        responses={(200, "text/csv"): OpenApiTypes.BINARY, **error_responses(400, 401, 403)},
    )
    def get(self, request):
        return super().get(request)


class ReleaseHistoryView(_ReadOnly):
    @extend_schema(
        summary="Every production deployment in a period, with approvals, evidence and findings",
        description="One page at a time (`page`, `page_size` up to "
        f"{HISTORY_MAX_PAGE_SIZE}, {HISTORY_PAGE_SIZE} by default), oldest first; "
        "`next` and `previous` link the neighbouring pages. "
        "`/audit/release-history.csv` and `.json` stream the whole period at once.",
        parameters=[
            *FILTER_PARAMETERS,
            OpenApiParameter("page", int, description="Page number, from 1."),
            OpenApiParameter("page_size", int, description="Deployments per page."),
        ],
        responses={200: HistorySerializer, **error_responses(400, 401, 403)},
    )
    def get(self, request):
        filters = audit_filters_parse(request.user, request.query_params)
        size = request.query_params.get("page_size", str(HISTORY_PAGE_SIZE))
        number = request.query_params.get("page", "1")
        if not size.isdigit() or not 1 <= int(size) <= HISTORY_MAX_PAGE_SIZE:
            raise ValidationFailed(
                f"page_size must be a whole number from 1 to {HISTORY_MAX_PAGE_SIZE}."
            )
        if not number.isdigit() or int(number) < 1:
            raise ValidationFailed("page must be a whole number from 1.")
        rows, page = release_history_page(filters, page=int(number), per_page=int(size))

        def link(n):
            params = request.query_params.copy()
            params["page"] = str(n)
            return request.build_absolute_uri(f"{request.path}?{params.urlencode()}")

        body = {
            "filters": filters.describe(),
            "count": page.paginator.count,
            "page": page.number,
            "pages": page.paginator.num_pages,
            "next": link(page.next_page_number()) if page.has_next() else None,
            "previous": link(page.previous_page_number()) if page.has_previous() else None,
            "deployments": [history_public(r) for r in rows],
        }
        return Response(HistorySerializer(body).data)


class ReleaseRecordView(_ReadOnly):
    @extend_schema(
        summary="The release record as JSON",
        description="Scope, checklist, approvals, go/no-go, deployments, monitoring, incidents, tests and "
        "the release's audit events with their hashes.",
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT), **error_responses(401, 403, 404)},
    )
    def get(self, request, pk: int):
        release = release_get(user=request.user, pk=pk)
        record = record_build(release=release, user=request.user)
        return Response(json.loads(json.dumps(record.as_dict(), cls=DjangoJSONEncoder)))


class ReleaseRecordPdfView(_ReadOnly):
    renderer_classes = [JSONRenderer, PdfRenderer]

    @extend_schema(
        summary="The release record as PDF",
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, **error_responses(401, 403, 404)},
    )
    def get(self, request, pk: int):
        release = release_get(user=request.user, pk=pk)
        return pdf_response(record_build(release=release, user=request.user))


class CheckpointListView(_ReadOnly):
    @extend_schema(
        summary="The latest signed checkpoints the caller may see",
        responses={200: CheckpointSerializer(many=True), **error_responses(401, 403)},
    )
    def get(self, request):
        filters = audit_filters_parse(request.user, {})
        found = checkpoints_latest_for(
            project_ids=filters.project_ids, whole_chain=filters.everything
        )
        return Response([c.statement() for c in found])
