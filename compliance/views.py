"""Audit pages: the event browser, exports, the release-history report and the release record.

All of them only read. Filters are parsed by compliance.filters (narrowed to the
reader's projects); a bad filter is a message in the page (or a 400 for a
download), never a 500.
"""

from __future__ import annotations

import csv
import json

from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from audit.exports import ExportPlan, csv_stream, export_filename, jsonl_stream
from audit.selectors import audit_event_page, checkpoint_latest
from compliance.filters import audit_filters_parse
from compliance.history import (
    HISTORY_COLUMNS,
    history_public,
    release_history_batches,
    release_history_page,
)
from compliance.links import event_object_url
from compliance.pdf import record_pdf
from compliance.record import record_build
from core.exceptions import DomainError, ValidationFailed
from projects.models import Project
from projects.selectors import project_list
from releases.models import Release
from releases.selectors import release_get

RELEASE_CHOICES_LIMIT = 200


def _cursor(request, name: str) -> int | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise ValidationFailed(
            f"'{raw[:20]}' is not a page position; follow the Newer/Older links."
        )
    return int(raw)


def _filter_choices(request, filters) -> dict:
    projects = (
        list(project_list(user=request.user))
        if not request.user.is_superuser
        else list(Project.objects.all())
    )
    releases = []
    if filters is not None and filters.project is not None:
        releases = list(
            Release.objects.filter(project=filters.project)
            .order_by("-created_at", "-id")
            .values("pk", "version")[:RELEASE_CHOICES_LIMIT]
        )
    return {"projects": projects, "releases": releases}


@login_required
@require_GET
def audit_event_list_view(request):
    """The audit browser: filters, a keyset-paged table of events, exports of the same selection."""
    error = None
    filters = page = None
    try:
        filters = audit_filters_parse(request.user, request.GET)
        page = audit_event_page(
            filters, before=_cursor(request, "before"), after=_cursor(request, "after")
        )
    except DomainError as exc:
        error = exc.message
    rows = []
    if page is not None:
        slugs = {
            p.pk: p.slug
            for p in Project.objects.filter(
                pk__in={e.project_id for e in page.events if e.project_id}
            )
        }
        # Keyed by the events' nullable ids: .get(None, "") is the event without a project or release.
        names: dict[int | None, str] = (
            {p.pk: p.name for p in Project.objects.filter(pk__in=slugs)} if slugs else {}
        )
        versions: dict[int | None, str] = dict(
            Release.objects.filter(
                pk__in={e.release_id for e in page.events if e.release_id}
            ).values_list("pk", "version")
        )
        rows = [
            {
                "event": e,
                "url": event_object_url(e, slugs),
                "project": names.get(e.project_id, ""),
                "release": versions.get(e.release_id, ""),
                "data": json.dumps(e.data, ensure_ascii=False, indent=2, sort_keys=True)
                if e.data
                else "",
            }
            for e in page.events
        ]
    query = request.GET.copy()
    for key in ("before", "after"):
        query.pop(key, None)
    context = {
        "filters": filters,
        "values": {
            key: request.GET.get(key, "")
            for key in ("project", "release", "person", "action", "from", "to")
        },
        "error": error,
        "page": page,
        "rows": rows,
        "span": (page.events[0].seq, page.events[-1].seq) if page and page.events else None,
        "query": query.urlencode(),
        "checkpoint": checkpoint_latest(project_id=filters.project.pk)
        if filters and filters.project
        else (checkpoint_latest() if filters and filters.everything else None),
        **_filter_choices(request, filters),
    }
    template = (
        "compliance/partials/event_table.html"
        if request.htmx and not request.htmx.boosted
        else "compliance/events.html"
    )
    return render(request, template, context)


def _bad_request(message: str) -> HttpResponse:
    return HttpResponse(message + "\n", status=400, content_type="text/plain; charset=utf-8")


def export_response(user, params, fmt: str):
    """The streamed export (also used by the API). Raises DomainError for bad filters."""
    plan = ExportPlan(audit_filters_parse(user, params))
    if fmt == "csv":
        response = StreamingHttpResponse(csv_stream(plan), content_type="text/csv; charset=utf-8")
    else:
        response = StreamingHttpResponse(
            jsonl_stream(plan), content_type="application/x-ndjson; charset=utf-8"
        )
    response["Content-Disposition"] = f'attachment; filename="{export_filename(plan, fmt)}"'
    response["Cache-Control"] = "no-store"
    response["X-Shipcheck-Export-Mode"] = plan.mode
    return response


@login_required
@require_GET
def audit_export_view(request, fmt: str):
    try:
        return export_response(request.user, request.GET, fmt)
    except DomainError as exc:
        return _bad_request(exc.message)


def _history_csv(filters):
    """The report as CSV, written batch by batch while it is sent."""
    from audit.exports import csv_cell

    class _Line:
        def write(self, value):
            return value

    writer = csv.writer(_Line(), lineterminator="\r\n")
    yield writer.writerow([label for _key, label in HISTORY_COLUMNS])
    for batch in release_history_batches(filters):
        for row in batch:
            row = history_public(row)
            yield writer.writerow(
                [
                    csv_cell(
                        row.get(key)
                        if not hasattr(row.get(key), "isoformat")
                        else row[key].isoformat()
                    )
                    for key, _label in HISTORY_COLUMNS
                ]
            )


def _history_json(filters):
    """The report as one JSON document, written batch by batch while it is sent."""
    encoder = DjangoJSONEncoder(ensure_ascii=False)
    yield '{"filters": ' + encoder.encode(filters.describe()) + ', "deployments": ['
    first = True
    for batch in release_history_batches(filters):
        for row in batch:
            yield ("" if first else ", ") + encoder.encode(history_public(row))
            first = False
    yield "]}"


@login_required
@require_GET
def release_history_view(request, fmt: str = "html"):
    """Production deployments in a period, with approvals, evidence and separation-of-duties findings.

    The page shows one page of deployments at a time; the CSV and JSON exports stream every
    deployment of the period in batches, so neither grows in memory or time per request.
    """
    error = None
    rows, page = [], None
    filters = None
    try:
        filters = audit_filters_parse(request.user, request.GET)
        if fmt == "html":
            rows, page = release_history_page(filters, page=request.GET.get("page"))
            rows = [history_public(r) for r in rows]
    except DomainError as exc:
        error = exc.message
        if fmt != "html":
            return _bad_request(error)
    if fmt == "csv":
        response = StreamingHttpResponse(
            _history_csv(filters), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = 'attachment; filename="shipcheck-release-history.csv"'
        return response
    if fmt == "json":
        return StreamingHttpResponse(_history_json(filters), content_type="application/json")
    params = request.GET.copy()
    params.pop("page", None)
    query = params.urlencode()
    context = {
        "rows": rows,
        "page": page,
        "columns": HISTORY_COLUMNS,
        "error": error,
        "filters": filters,
        "values": {key: request.GET.get(key, "") for key in ("project", "release", "from", "to")},
        "query": query,
        "export_query": query,
        "breaches": sum(1 for r in rows if r["findings"]),
        **_filter_choices(request, filters),
    }
    return render(request, "compliance/release_history.html", context)


def _record_for(request, pk):
    release = release_get(user=request.user, pk=pk)
    return release, record_build(release=release, user=request.user)


@login_required
@require_GET
def release_record_view(request, pk: int):
    """The printable release record."""
    release, record = _record_for(request, pk)
    return render(request, "compliance/release_record.html", {"release": release, "record": record})


@login_required
@require_GET
def release_record_pdf_view(request, pk: int):
    release, record = _record_for(request, pk)
    return pdf_response(record)


def pdf_response(record) -> HttpResponse:
    release = record.release
    response = HttpResponse(record_pdf(record), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="release-record-{release.project.slug}-{release.version}.pdf"'
    )
    return response


@login_required
@require_GET
def release_record_json_view(request, pk: int):
    release, record = _record_for(request, pk)
    response = JsonResponse(
        record.as_dict(), encoder=DjangoJSONEncoder, json_dumps_params={"ensure_ascii": False}
    )
    response["Content-Disposition"] = (
        f'attachment; filename="release-record-{release.project.slug}-{release.version}.json"'
    )
    return response
