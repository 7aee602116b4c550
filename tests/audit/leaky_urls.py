"""The product's URLs plus four test-only endpoints, to check that the auditor walk catches leaks."""

from django.db import transaction
from django.http import HttpResponse, HttpResponseForbidden
from django.urls import path

from config.urls import urlpatterns as product_urls
from projects.choices import Role
from projects.permissions import has_role
from releases.models import Release, Ticket


def _write(request, pk):
    release = Release.objects.get(pk=pk)
    with transaction.atomic():
        Ticket.objects.get_or_create(release=release, key=f"LEAK-{request.user.pk}")
    return HttpResponse("written")


def leak_write(request, pk):
    """Writes for anybody."""
    if request.method != "POST":
        return HttpResponse(status=405)
    return _write(request, pk)


def leak_soft_refusal(request, pk):
    """Refuses the auditor, but with 200 and a message instead of 403."""
    if request.method != "POST":
        return HttpResponse(status=405)
    release = Release.objects.get(pk=pk)
    if not has_role(request.user, release.project_id, Role.RELEASE_MANAGER):
        return HttpResponse("You may not do that.")
    return _write(request, pk)


def leak_form_first(request, pk):
    """Answers a body it cannot use with 400 before asking who is sending it."""
    if request.method != "POST":
        return HttpResponse(status=405)
    if not request.POST.get("title"):
        return HttpResponse("Title is required.", status=400)
    release = Release.objects.get(pk=pk)
    if not has_role(request.user, release.project_id, Role.RELEASE_MANAGER):
        return HttpResponseForbidden("No.")
    return _write(request, pk)


def leak_safe(request, pk):
    """Refuses properly."""
    release = Release.objects.get(pk=pk)
    if not has_role(request.user, release.project_id, Role.RELEASE_MANAGER):
        return HttpResponseForbidden("No.")
    return _write(request, pk) if request.method == "POST" else HttpResponse(status=405)


urlpatterns = [
    path("leak/releases/<int:pk>/write/", leak_write, name="leak-write"),
    path("leak/releases/<int:pk>/soft/", leak_soft_refusal, name="leak-soft-refusal"),
    path("leak/releases/<int:pk>/form-first/", leak_form_first, name="leak-form-first"),
    path("leak/releases/<int:pk>/safe/", leak_safe, name="leak-safe"),
    *product_urls,
]
