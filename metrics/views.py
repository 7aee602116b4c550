"""Delivery metrics pages: the dashboard, the drill-down lists (and CSV), the quarterly review.

Every page only reads, except the project's metrics settings. A bad filter is a message
in the page with status 400 (a CSV answers 400 in plain text); a project the reader may
not see answers 404.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from core.exceptions import DomainError, NotFound, PermissionDenied, ValidationFailed
from metrics.charts import chart_for
from metrics.computations import MetricResult, metrics_compute
from metrics.definitions import BAND_RULES, BAND_SOURCE, BAND_YEAR, BANDS, DEFINITIONS
from metrics.drill import LISTS, PAGE_SIZE, drill_iter, drill_page, parse_only
from metrics.scope import Scope, scope_parse
from metrics.services import metrics_settings_for, metrics_settings_update
from metrics.templatetags.metrics_tags import metric_value
from projects.models import Project
from projects.permissions import can_admin_project
from projects.selectors import project_get, project_list

# The dashboard's order: the four keys, rework, then the seed's KPIs.
DASHBOARD_ORDER = (
    "deployment_frequency",
    "lead_time_for_changes",
    "change_failure_rate",
    "failed_deployment_recovery_time",
    "deployment_rework_rate",
    "deployment_duration",
    "deployment_success_rate",
    "rollback_rate",
    "bug_escape_rate",
    "gate_wait_time",
)


INTERVAL_CHOICES = [
    ("daily", "Daily"),
    ("weekly", "Weekly"),
    ("monthly", "Monthly"),
    ("all", "Whole range"),
]


def drill_url(scope: Scope, key: str, **extra: str) -> str:
    from urllib.parse import urlencode

    definition = DEFINITIONS[key]
    params = scope.query(**({"only": definition.drill_filter} if definition.drill_filter else {}))
    params.pop("interval", None)
    params.update({k: v for k, v in extra.items() if v})
    return reverse("metrics:drill", args=[definition.drill]) + "?" + urlencode(params)


def card_for(scope: Scope, result: MetricResult) -> dict[str, Any]:
    definition = result.definition
    unit = definition.unit
    points = result.series
    labels = [p.bucket.label for p in points]
    titles = [f"{p.bucket.label}: {metric_value(p.value, unit)}" for p in points]
    urls = [drill_url(scope, result.key, **p.bucket.params(scope.tz)) for p in points]
    chart = chart_for(
        [p.value for p in points],
        labels,
        titles,
        urls,
        kind="bars" if unit == "count" else "line",
        y_format=lambda v: metric_value(v, unit),
    )
    return {
        "key": result.key,
        "definition": definition,
        "value": result.value,
        "summary": result.summary,
        "band": result.band,
        "bands": BANDS.get(result.key, ()),
        "band_rule": BAND_RULES.get(result.key, ""),
        "url": drill_url(scope, result.key),
        "chart": chart,
        "rows": list(zip(points, urls, strict=True)),
        "extra": result.extra,
    }


def _project_choices(request: HttpRequest) -> list[Project]:
    return list(project_list(user=request.user).order_by("name"))


def _page_error(request: HttpRequest, template: str, exc: DomainError, **context: Any):
    if isinstance(exc, NotFound):
        raise Http404(exc.message)
    context.update(
        error=exc.message,
        projects=_project_choices(request),
        values=request.GET,
        intervals=INTERVAL_CHOICES,
    )
    return render(request, template, context, status=400)


@login_required
@require_GET
def dashboard(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    """The metrics of the projects the reader sees (or of one project), with trends."""
    project = None
    try:
        if slug is not None:
            project = project_get(user=request.user, slug=slug, include_staff=False)
        scope = scope_parse(request.user, request.GET, project=project)
    except DomainError as exc:
        return _page_error(request, "metrics/dashboard.html", exc, project=project)
    results = metrics_compute(scope, DASHBOARD_ORDER)
    cards = [card_for(scope, results[key]) for key in DASHBOARD_ORDER]
    context = {
        "scope": scope,
        "project": project,
        "cards": cards,
        "dora": [c for c in cards if c["definition"].dora],
        "kpis": [c for c in cards if not c["definition"].dora],
        "band_year": BAND_YEAR,
        "band_source": BAND_SOURCE,
        "projects": _project_choices(request),
        "values": scope.params,
        "intervals": INTERVAL_CHOICES,
        "has_data": any(c["summary"].get("deployments") for c in cards)
        or bool(results["deployment_frequency"].summary["count"]),
        "review_url": reverse("metrics:review") + (f"?project={project.slug}" if project else ""),
        "can_admin": project is not None and can_admin_project(request.user, project),
    }
    return render(request, "metrics/dashboard.html", context)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_cell(value: Any) -> str:
    """Formula-safe text for spreadsheets (a leading = + - @ is quoted)."""
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    if text[:1] in ("=", "+", "-", "@") and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def csv_stream(kind: str, scope: Scope, only: str, stage: str) -> Iterator[str]:
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    columns = LISTS[kind].columns
    yield writer.writerow([header for _key, header in columns])
    for row in drill_iter(kind, scope, only, stage):
        yield writer.writerow([_csv_cell(row.get(key)) for key, _header in columns])


def _page_number(raw: str) -> int:
    raw = (raw or "1").strip()
    if not raw.isdigit() or not 1 <= int(raw) <= 100000:
        raise ValidationFailed(
            "The page must be a whole number from 1.", details={"page": "invalid"}
        )
    return int(raw)


@login_required
@require_GET
def drill(request: HttpRequest, kind: str, fmt: str = "html") -> HttpResponseBase:
    """The rows behind a number, with the number's own filters; ``.csv`` streams them all."""
    if kind not in LISTS:
        raise Http404("No such list.")
    spec = LISTS[kind]
    try:
        scope = scope_parse(request.user, request.GET, default_interval="all")
        only = parse_only(kind, request.GET.get("only", ""))
        stage = request.GET.get("stage", "").strip()[:40]
        page = _page_number(request.GET.get("page", "1"))
    except DomainError as exc:
        if fmt == "csv":
            if isinstance(exc, NotFound):
                raise Http404(exc.message) from None
            return HttpResponse(exc.message + "\n", status=400, content_type="text/plain")
        return _page_error(request, "metrics/drill.html", exc, spec=spec, kind=kind)
    if fmt == "csv":
        response = StreamingHttpResponse(
            csv_stream(kind, scope, only, stage), content_type="text/csv; charset=utf-8"
        )
        name = f"shipcheck-{kind}-{scope.first_day}-{scope.last_day}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    rows, total = drill_page(kind, scope, only, page=page, stage=stage)
    pages = max(1, -(-total // PAGE_SIZE))
    params = scope.query(only=only, stage=stage)
    params.pop("interval", None)
    context = {
        "scope": scope,
        "spec": spec,
        "kind": kind,
        "only": only,
        "stage": stage,
        "rows": rows,
        "total": total,
        "page": page,
        "pages": pages,
        "params": params,
        "projects": _project_choices(request),
        "values": scope.params,
        "metric_links": [d for d in DEFINITIONS.values() if d.drill == kind],
        "hidden_fields": [("only", only)] + ([("stage", stage)] if stage else []),
    }
    return render(request, "metrics/drill.html", context)


def _quarter(raw: str) -> tuple[date, date, str]:
    """'2026-Q3' -> (first day, last day, label); the current quarter without a value."""
    raw = (raw or "").strip().upper()
    if not raw:
        today = timezone.localdate()
        year, number = today.year, (today.month - 1) // 3 + 1
    else:
        try:
            year_text, q_text = raw.split("-Q")
            year, number = int(year_text), int(q_text)
        except ValueError:
            raise ValidationFailed(
                f"'{raw[:20]}' is not a quarter: write it as YYYY-Qn, e.g. 2026-Q3.",
                details={"quarter": "invalid"},
            ) from None
        if not (1970 <= year <= 9998 and 1 <= number <= 4):
            raise ValidationFailed(
                "The quarter must be Q1 to Q4 of a year from 1970.", details={"quarter": "invalid"}
            )
    first = date(year, 3 * (number - 1) + 1, 1)
    last = (date(year + (number == 4), 1 if number == 4 else 3 * number + 1, 1)) - timedelta(days=1)
    return first, last, f"{year}-Q{number}"


@login_required
@require_GET
def review(request: HttpRequest) -> HttpResponse:
    """The quarterly metrics review: this quarter by month, against the previous quarter."""
    try:
        first, last, label = _quarter(request.GET.get("quarter", ""))
        params = {**request.GET.dict(), "from": first.isoformat(), "to": last.isoformat()}
        params["interval"] = "monthly"
        scope = scope_parse(request.user, params)
        prev_last = first - timedelta(days=1)
        prev_first, _l, prev_label = _quarter(f"{prev_last.year}-Q{(prev_last.month - 1) // 3 + 1}")
        prev_scope = scope_parse(
            request.user,
            {
                **params,
                "from": prev_first.isoformat(),
                "to": prev_last.isoformat(),
                "interval": "all",
            },
        )
    except DomainError as exc:
        return _page_error(request, "metrics/review.html", exc)
    now = metrics_compute(scope, DASHBOARD_ORDER)
    before = metrics_compute(prev_scope, DASHBOARD_ORDER, series=False)
    rows = []
    for key in DASHBOARD_ORDER:
        definition = DEFINITIONS[key]
        rows.append(
            {
                "definition": definition,
                "now": now[key],
                "before": before[key],
                "url": drill_url(scope, key),
                "months": list(zip(now[key].series, [None] * len(now[key].series), strict=True)),
            }
        )
    months = scope.buckets()
    next_q = last + timedelta(days=1)
    context = {
        "scope": scope,
        "label": label,
        "prev_label": prev_label,
        "rows": rows,
        "months": months,
        "band_year": BAND_YEAR,
        "band_source": BAND_SOURCE,
        "projects": _project_choices(request),
        "values": {**scope.params, "quarter": label},
        "previous_quarter": prev_label,
        "next_quarter": f"{next_q.year}-Q{(next_q.month - 1) // 3 + 1}",
        "waits": now["gate_wait_time"].extra.get("by_environment", []),
        "generated_at": timezone.now(),
    }
    return render(request, "metrics/review.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def settings_view(request: HttpRequest, slug: str) -> HttpResponse:
    """A project's metrics settings (its admins may change them)."""
    try:
        project = project_get(user=request.user, slug=slug, include_staff=False)
    except NotFound:
        raise Http404("No such project.") from None
    error = None
    if request.method == "POST":
        try:
            metrics_settings_update(
                project=project,
                actor=request.user,  # type: ignore[arg-type]
                hotfix_is_rework=request.POST.get("hotfix_is_rework") == "on",
            )
        except PermissionDenied as exc:
            return render(
                request,
                "metrics/settings.html",
                {
                    "project": project,
                    "settings": metrics_settings_for(project),
                    "error": exc.message,
                },
                status=403,
            )
        return redirect(reverse("metrics:settings", args=[project.slug]) + "?saved=1")
    return render(
        request,
        "metrics/settings.html",
        {
            "project": project,
            "settings": metrics_settings_for(project),
            "can_admin": can_admin_project(request.user, project),
            "saved": request.GET.get("saved") == "1",
            "error": error,
        },
    )
