"""API token pages: project admins create (shown once), list and revoke tokens."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.exceptions import DomainError
from integrations import selectors
from integrations.forms import TokenCreateForm
from projects.services import api_token_create, api_token_revoke


def _token_rows(project):
    return list(selectors.token_list(project=project))


@login_required
@require_safe
def token_index(request):
    """Projects whose tokens the signed-in person may manage."""
    projects = list(selectors.token_admin_projects(user=request.user))
    return render(request, "integrations/token_index.html", {"projects": projects})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def token_list(request, slug):
    """List a project's tokens; POST creates one and shows its secret in this answer only."""
    project = selectors.token_admin_project_get(user=request.user, slug=slug)
    created = plain = None
    if request.method == "POST":
        form = TokenCreateForm(request.POST)
        if form.is_valid():
            try:
                created, plain = api_token_create(
                    project=project,
                    name=form.cleaned_data["name"],
                    scopes=form.cleaned_data["scopes"],
                    expires_at=form.expires_at(),
                    actor=request.user,
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                form = TokenCreateForm()
    else:
        form = TokenCreateForm()
    context = {
        "project": project,
        "form": form,
        "tokens": _token_rows(project),
        "created": created,
        "plain": plain,
        "base_url": request.build_absolute_uri("/").rstrip("/"),
    }
    template = (
        "integrations/partials/token_create.html" if request.htmx else "integrations/tokens.html"
    )
    response = render(request, template, context)
    if plain:
        # The secret is in this page and nowhere else; keep it out of every cache.
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def token_revoke(request, slug, pk):
    project = selectors.token_admin_project_get(user=request.user, slug=slug)
    token = selectors.token_get(project=project, pk=pk)
    api_token_revoke(token=token, actor=request.user)
    if request.htmx:
        return render(
            request,
            "integrations/partials/token_table.html",
            {"project": project, "tokens": _token_rows(project), "revoked": token},
        )
    messages.success(
        request, f"Token “{token.name}” is revoked; requests with it are refused from now on."
    )
    return redirect("integrations:tokens", slug=project.slug)
