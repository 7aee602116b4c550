"""Incident pages (docs/incidents.md)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from incidents import selectors


def incident_list(request: HttpRequest) -> HttpResponse:
    incidents = selectors.incident_list(user=request.user)
    return render(request, "incidents/list.html", {"incidents": incidents})


def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    incident = selectors.incident_get(user=request.user, pk=pk)
    return render(request, "incidents/detail.html", {"incident": incident})
