"""The metrics API: one metric as a series close to GitLab's DORA API, and the rows behind it.

``GET /api/v1/metrics/?metric=&project=&environment=&interval=&from=&to=`` answers the
metric's ``data`` (``[{date, value}]``) beside its ``summary``; the drill-down lists
answer pages of rows. Read-only; tokens need the read scope (the default permission).
"""

from __future__ import annotations

from dataclasses import asdict

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.schema import error_responses
from core.exceptions import ValidationFailed
from metrics.api.serializers import DefinitionSerializer, DrillPageSerializer, MetricSerializer
from metrics.computations import metrics_compute
from metrics.definitions import BAND_YEAR, DEFINITIONS
from metrics.drill import LISTS, MAX_PAGE_SIZE, PAGE_SIZE, drill_page, parse_only
from metrics.scope import INTERVALS, parse_metric, scope_parse
from metrics.views import csv_stream, drill_url

SCOPE_PARAMETERS = [
    OpenApiParameter("project", str, description="Project slug or id; all your projects without."),
    OpenApiParameter(
        "environment", str, description="Environment name (or id); production-tier ones without."
    ),
    OpenApiParameter("from", OpenApiTypes.DATE, description="First day (local), inclusive."),
    OpenApiParameter(
        "to", OpenApiTypes.DATE, description="Last day (local), inclusive; today without."
    ),
]


class _ReadOnly(APIView):
    http_method_names = ["get", "head", "options"]


class MetricView(_ReadOnly):
    @extend_schema(
        summary="One delivery metric over a range, as a series and a summary",
        description="Close to GitLab's DORA metrics API: `data` is `[{date, value}]` per "
        "interval, with the figures behind each value and the link to its rows. Ranges are "
        "capped at 366 days (`messages` says so).",
        parameters=[
            OpenApiParameter(
                "metric", str, required=True, enum=list(DEFINITIONS), description="The metric."
            ),
            *SCOPE_PARAMETERS,
            OpenApiParameter("interval", str, enum=list(INTERVALS), description="Default daily."),
        ],
        responses={200: MetricSerializer, **error_responses(400, 401, 403, 404)},
    )
    def get(self, request: Request) -> Response:
        metric = parse_metric(request.query_params)
        scope = scope_parse(request.user, request.query_params, default_interval="daily")
        result = metrics_compute(scope, [metric])[metric]
        definition = DEFINITIONS[metric]
        absolute = request.build_absolute_uri
        return Response(
            {
                "metric": metric,
                "label": definition.label,
                "unit": definition.unit,
                "interval": scope.interval,
                "environment": scope.environment_name or "production",
                "projects": [p.slug for p in scope.projects],
                "start_date": scope.first_day,
                "end_date": scope.last_day,
                "time_zone": scope.tz_name,
                "value": result.value,
                "summary": {**result.summary, **result.extra},
                "band": (
                    {"name": result.band.name, "text": result.band.text, "year": BAND_YEAR}
                    if result.band
                    else None
                ),
                "data": [
                    {
                        "date": p.bucket.key,
                        "value": p.value,
                        "figures": p.figures,
                        "url": absolute(drill_url(scope, metric, **p.bucket.params(scope.tz))),
                    }
                    for p in result.series
                ],
                "definition": asdict(definition),
                "messages": list(scope.messages),
                "url": absolute(drill_url(scope, metric)),
            }
        )


class DefinitionListView(_ReadOnly):
    @extend_schema(
        summary="What every metric counts, leaves out and which timestamps it reads",
        responses={200: DefinitionSerializer(many=True), **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        return Response([asdict(d) for d in DEFINITIONS.values()])


class CsvRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        import json

        return data if isinstance(data, bytes | str) else json.dumps(data).encode()


class DrillListView(_ReadOnly):
    kind = "deployments"
    renderer_classes = [JSONRenderer, CsvRenderer]

    def get(self, request: Request) -> Response:
        from django.http import StreamingHttpResponse

        scope = scope_parse(request.user, request.query_params, default_interval="all")
        only = parse_only(self.kind, request.query_params.get("only", ""))
        stage = request.query_params.get("stage", "").strip()[:40]
        if request.accepted_renderer.format == "csv":
            response = StreamingHttpResponse(
                csv_stream(self.kind, scope, only, stage), content_type="text/csv; charset=utf-8"
            )
            return response  # type: ignore[return-value]
        size_raw = request.query_params.get("page_size", str(PAGE_SIZE))
        page_raw = request.query_params.get("page", "1")
        if not size_raw.isdigit() or not 1 <= int(size_raw) <= MAX_PAGE_SIZE:
            raise ValidationFailed(
                f"page_size must be a whole number from 1 to {MAX_PAGE_SIZE}.",
                details={"page_size": "invalid"},
            )
        if not page_raw.isdigit() or not 1 <= int(page_raw) <= 100000:
            raise ValidationFailed(
                "page must be a whole number from 1.", details={"page": "invalid"}
            )
        size, page = int(size_raw), int(page_raw)
        rows, total = drill_page(self.kind, scope, only, page=page, size=size, stage=stage)
        pages = max(1, -(-total // size))

        def link(number: int) -> str | None:
            if not 1 <= number <= pages or number == page:
                return None
            params = request.query_params.copy()
            params["page"] = str(number)
            return request.build_absolute_uri(f"{request.path}?{params.urlencode()}")

        return Response(
            {
                "list": self.kind,
                "only": only,
                "count": total,
                "page": page,
                "pages": pages,
                "next": link(page + 1),
                "previous": link(page - 1),
                "results": rows,
                "messages": list(scope.messages),
            }
        )


def _drill_view(kind: str) -> type[DrillListView]:
    spec = LISTS[kind]

    @extend_schema(
        summary=f"{spec.title}: the rows behind the metrics that count them",
        description="The same filters as `/api/v1/metrics/`, plus `only` ("
        + ", ".join(f"`{k}`: {v}" for k, v in spec.filters.items())
        + f"; default `{spec.default}`). Ask for `text/csv` (or `?format=csv`) to stream "
        "every row as CSV.",
        parameters=[
            *SCOPE_PARAMETERS,
            OpenApiParameter("only", str, enum=list(spec.filters), description="Which rows."),
            *(
                [
                    OpenApiParameter(
                        "stage", str, description="Environment name the release waited before."
                    )
                ]
                if kind == "waits"
                else []
            ),
            OpenApiParameter("page", int, description="Page number, from 1."),
            OpenApiParameter(
                "page_size", int, description=f"At most {MAX_PAGE_SIZE} (default {PAGE_SIZE})."
            ),
        ],
        responses={
            200: DrillPageSerializer,
            (200, "text/csv"): OpenApiTypes.BINARY,
            **error_responses(400, 401, 403, 404),
        },
    )
    def get(self: DrillListView, request: Request) -> Response:
        return DrillListView.get(self, request)

    return type(f"{kind.capitalize()}DrillView", (DrillListView,), {"kind": kind, "get": get})


DRILL_VIEWS = {kind: _drill_view(kind) for kind in LISTS}
