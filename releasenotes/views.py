"""Release-note pages: the release page's section and its actions, downloads, per-environment
notes, CHANGELOG.md, the tracker setting and the public page behind a secret link.

Views parse input, call one selector or service and render. An htmx request gets the
re-rendered section; without JavaScript every form posts and redirects back to the
release page. Missing and forbidden objects answer 404, a refused action 403, bad input
re-renders with the message.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.exceptions import DomainError, NotFound, PermissionDenied
from core.markdown import render_markdown
from releasenotes import services
from releasenotes.integration import panel_context
from releasenotes.models import NotesLink
from releasenotes.selectors import (
    changelog_markdown,
    draft_markdown,
    draft_of,
    environment_notes,
    link_resolve,
    notes_panel,
    project_for_notes,
    tracker_template,
    version_get,
)
from releases.selectors import environment_get, release_get
from releases.views.common import RELEASE_CHANGED_EVENT, is_fragment


def http_errors(view):
    """NotFound → 404 and PermissionDenied → 403 for pages (the API has its own handler)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from None
        except PermissionDenied as exc:
            raise HttpForbidden(exc.message) from None

    return wrapper


def _panel_url(release) -> str:
    return release.get_absolute_url() + "#panel-notes"


def _section(request, release, *, error: str = "", notice: str = "", new_link=None, events=()):
    context = panel_context(release, request)
    context.update(error=error, notice=notice, new_link=new_link)
    response = render(request, "releasenotes/partials/section.html", context)
    if events:
        response["HX-Trigger"] = ", ".join(events)
    return response


def _after(request, release, *, error: str = "", notice: str = "", events=()):
    if is_fragment(request):
        return _section(request, release, error=error, notice=notice, events=events)
    if error:
        messages.error(request, error)
    elif notice:
        messages.success(request, notice)
    return redirect(_panel_url(release))


def _write(request, release_id, call, notice, events=()):
    release = release_get(user=request.user, pk=release_id)
    services.notes_authorize(release=release, actor=request.user)
    try:
        result = call(release)
    except (NotFound, PermissionDenied):
        raise
    except DomainError as exc:
        return _after(request, release, error=exc.message)
    return _after(
        request, release, notice=notice(result) if callable(notice) else notice, events=events
    )


@login_required
@require_GET
@http_errors
def notes_section(request, release_id: int):
    """The notes section alone: the fragment for htmx, a page of its own otherwise."""
    release = release_get(user=request.user, pk=release_id)
    if is_fragment(request):
        return _section(request, release)
    return render(request, "releasenotes/release.html", panel_context(release, request))


@login_required
@require_POST
@http_errors
def notes_regenerate(request, release_id: int):
    return _write(
        request,
        release_id,
        lambda r: services.notes_regenerate(release=r, actor=request.user),
        lambda d: (
            "Regenerated from the commits and tickets."
            + (
                ""
                if d.previous_generated != d.generated
                else " Nothing changed in the generated part."
            )
        ),
    )


@login_required
@require_http_methods(["GET", "POST"])
@http_errors
def notes_edit(request, release_id: int):
    """The person's part of the notes: a page with the form (no JavaScript), or the section's form."""
    release = release_get(user=request.user, pk=release_id)
    services.notes_authorize(release=release, actor=request.user)
    if request.method == "POST":
        written = request.POST.get("written", "")
        try:
            services.notes_edit(release=release, actor=request.user, written=written)
        except (NotFound, PermissionDenied):
            raise
        except DomainError as exc:
            if is_fragment(request):
                return _section(request, release, error=exc.message)
            return render(
                request,
                "releasenotes/edit.html",
                {"release": release, "written": written, "error": exc.message},
            )
        return _after(request, release, notice="Your part of the notes is saved.")
    draft = draft_of(release)
    written = draft.written if draft is not None else release.notes
    return render(request, "releasenotes/edit.html", {"release": release, "written": written})


@login_required
@require_POST
@http_errors
def notes_publish(request, release_id: int):
    def notice(result):
        if not result.created:
            return f"Nothing changed since version {result.version.number}: it stays the published one."
        return f"Version {result.version.number} published."

    return _write(
        request,
        release_id,
        lambda r: services.notes_publish(release=r, actor=request.user),
        notice,
        events=(RELEASE_CHANGED_EVENT,),
    )


@login_required
@require_POST
@http_errors
def link_create(request, release_id: int):
    release = release_get(user=request.user, pk=release_id)
    services.notes_authorize(release=release, actor=request.user)
    try:
        made = services.link_create(
            release=release, actor=request.user, label=request.POST.get("label", "")
        )
    except (NotFound, PermissionDenied):
        raise
    except DomainError as exc:
        return _after(request, release, error=exc.message)
    url = request.build_absolute_uri(reverse("releasenotes:public", args=[made.secret]))
    new_link = {"link": made.link, "url": url}
    if is_fragment(request):
        return _section(request, release, new_link=new_link)
    # Without JavaScript the secret is shown once on a page of its own (never in a redirect).
    return render(request, "releasenotes/link_created.html", {"release": release, **new_link})


@login_required
@require_POST
@http_errors
def link_revoke(request, release_id: int, link_id: int):
    release = release_get(user=request.user, pk=release_id)
    services.notes_authorize(release=release, actor=request.user)
    link = NotesLink.objects.filter(release=release, pk=link_id).select_related("release").first()
    if link is None:
        raise NotFound("No such link.")
    services.link_revoke(link=link, actor=request.user)
    return _after(request, release, notice="The link is revoked: it no longer opens the notes.")


# --- Downloads ----------------------------------------------------------------------------


def _filename(release, suffix: str) -> str:
    return f"{slugify(release.project.slug)}-{slugify(release.version)}-release-notes{suffix}"


def _download(text: str, *, content_type: str, filename: str, inline: bool = False) -> HttpResponse:
    response = HttpResponse(text, content_type=content_type)
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _release_markdown(request, release) -> str:
    """``?draft=1``: the draft as it stands; else the published version (``?version=N``, latest)."""
    if request.GET.get("draft") == "1":
        return draft_markdown(release, draft_of(release))
    return version_get(release=release, number=request.GET.get("version")).markdown


@login_required
@require_GET
@http_errors
def download_markdown(request, release_id: int):
    release = release_get(user=request.user, pk=release_id)
    text = _release_markdown(request, release)
    return _download(
        text, content_type="text/markdown; charset=utf-8", filename=_filename(release, ".md")
    )


@login_required
@require_GET
@http_errors
def download_html(request, release_id: int):
    release = release_get(user=request.user, pk=release_id)
    text = _release_markdown(request, release)
    html = render(
        request,
        "releasenotes/standalone.html",
        {"title": f"{release.project} {release.version}", "body": render_markdown(text)},
    ).content.decode()
    return _download(
        html, content_type="text/html; charset=utf-8", filename=_filename(release, ".html")
    )


@login_required
@require_GET
@http_errors
def environment_page(request, release_id: int, environment: str):
    """What deploying this release to one environment brings: every release since the last one there."""
    release = release_get(user=request.user, pk=release_id)
    env = environment_get(release=release, name_or_id=environment)
    notes = environment_notes(release=release, environment=env)
    if request.GET.get("format") == "md":
        return _download(
            notes.markdown,
            content_type="text/markdown; charset=utf-8",
            filename=_filename(release, f"-{slugify(env.name)}.md"),
        )
    return render(
        request,
        "releasenotes/environment.html",
        {
            "release": release,
            "environment": env,
            "notes": notes,
            "html": render_markdown(notes.markdown),
        },
    )


@login_required
@require_GET
@http_errors
def changelog(request, slug: str):
    project = project_for_notes(user=request.user, slug=slug)
    return _download(
        changelog_markdown(project=project),
        content_type="text/markdown; charset=utf-8",
        filename="CHANGELOG.md",
        inline=request.GET.get("inline") == "1",
    )


@login_required
@require_http_methods(["GET", "POST"])
@http_errors
def project_settings(request, slug: str):
    """Where ticket keys link: the project's tracker URL template (project admins change it)."""
    project = project_for_notes(user=request.user, slug=slug)
    error = ""
    template = tracker_template(project)
    if request.method == "POST":
        template = request.POST.get("tracker_url_template", "")
        try:
            services.tracker_set(project=project, actor=request.user, template=template)
        except (NotFound, PermissionDenied):
            raise
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, "Ticket keys now link through the new template.")
            return redirect(reverse("releasenotes:settings", args=[project.slug]))
    from projects.permissions import can_admin_project

    return render(
        request,
        "releasenotes/settings.html",
        {
            "project": project,
            "template": template,
            "error": error,
            "can_configure": can_admin_project(request.user, project),
        },
    )


# --- The public page behind a secret link -------------------------------------------------


def _public(secret: str):
    link = link_resolve(secret)
    release = link.release
    version = version_get(release=release, number=None)
    return release, version


def _private(response: HttpResponse) -> HttpResponse:
    # The secret is in the path: keep it out of other sites' logs and search engines.
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@http_errors
def public_page(request, secret: str):
    """Read-only notes for readers without an account; 404 for a wrong or revoked link."""
    release, version = _public(secret)
    return _private(
        render(
            request,
            "releasenotes/public.html",
            {
                "release": release,
                "version": version,
                "html": render_markdown(version.markdown),
                "secret": secret,
            },
        )
    )


@require_GET
@http_errors
def public_markdown(request, secret: str):
    release, version = _public(secret)
    return _private(
        _download(
            version.markdown,
            content_type="text/markdown; charset=utf-8",
            filename=_filename(release, ".md"),
        )
    )


__all__ = ["notes_panel"]
