"""Project settings pages: create and edit projects, environments, people; the first-run page.

Every form posts to a view that calls one service; a refusal (bad input, a rule) is shown
in the form with status 200 and nothing changed. Who may not see the project gets 404;
a member who may not manage it gets 403. Works without JavaScript; htmx is not needed.
"""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from core.exceptions import DomainError, PermissionDenied
from projects import services
from projects.choices import Role
from projects.forms import (
    EnvironmentAddForm,
    EnvironmentEditForm,
    EnvironmentRowFormSet,
    MemberAddForm,
    MemberRemoveForm,
    ProjectCreateForm,
    ProjectForm,
    ReasonForm,
    SetupForm,
    environment_rows_initial,
)
from projects.models import Environment, Membership
from projects.permissions import can_admin_project, is_staff_admin
from projects.selectors import (
    environment_by_name,
    person_find,
    project_get,
)


def _managed_project(request, slug):
    """The project by slug: 404 unless the person sees it, 403 unless they manage it."""
    project = project_get(user=request.user, slug=slug)
    if not can_admin_project(request.user, project):
        raise PermissionDenied(
            "Only a project admin or a staff administrator may change this project's settings."
        )
    return project


def _settings_nav(project, current: str) -> list[dict]:
    return [
        {
            "label": label,
            "url": reverse(name, args=[project.slug]),
            "current": key == current,
        }
        for key, label, name in (
            ("general", "General", "projects:settings"),
            ("environments", "Environments", "projects:settings-environments"),
            ("people", "People and roles", "projects:settings-people"),
        )
    ]


# --- new project ------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def project_create_view(request):
    if not is_staff_admin(request.user):
        raise PermissionDenied("Only a staff administrator may create projects.")
    if request.method == "POST":
        form = ProjectCreateForm(request.POST)
        rows = EnvironmentRowFormSet(request.POST, prefix="env")
        if form.is_valid() and rows.is_valid():
            specs = [spec for spec in (row.spec() for row in rows) if spec is not None]
            try:
                project = services.project_create(
                    name=form.cleaned_data["name"],
                    slug=form.cleaned_data["slug"] or None,
                    description=form.cleaned_data["description"],
                    actor=request.user,
                    environments=specs,
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request,
                    f"Project {project.name} created with {len(specs)} environments. "
                    "Add the people who work on it next.",
                )
                return redirect("projects:settings-people", project.slug)
        elif not rows.is_valid():
            form.add_error(None, "Check the environment rows: " + _formset_errors(rows))
    else:
        form = ProjectCreateForm()
        rows = EnvironmentRowFormSet(prefix="env", initial=environment_rows_initial())
    return render(request, "projects/create.html", {"form": form, "rows": rows})


def _formset_errors(formset) -> str:
    texts = [str(e) for e in formset.non_form_errors()]
    for index, errors in enumerate(formset.errors, start=1):
        for field, messages_ in errors.items():
            texts.append(f"row {index} {field}: {' '.join(messages_)}")
    return "; ".join(texts) or "invalid rows."


# --- general -------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def project_settings(request, slug):
    project = _managed_project(request, slug)
    form = ProjectForm(initial={"name": project.name, "description": project.description})
    archive_form = ReasonForm()
    if request.method == "POST":
        intent = request.POST.get("intent", "update")
        try:
            if intent == "archive":
                archive_form = ReasonForm(request.POST)
                if archive_form.is_valid():
                    services.project_archive(
                        project=project,
                        actor=request.user,
                        reason=archive_form.cleaned_data["reason"],
                    )
                    messages.success(
                        request,
                        f"{project.name} is archived: it takes no new releases or promotions, "
                        "and its history stays.",
                    )
                    return redirect("projects:settings", project.slug)
            else:
                form = ProjectForm(request.POST)
                if form.is_valid():
                    services.project_update(
                        project=project,
                        actor=request.user,
                        name=form.cleaned_data["name"],
                        description=form.cleaned_data["description"],
                    )
                    messages.success(request, "Project details saved.")
                    return redirect("projects:settings", project.slug)
        except DomainError as exc:
            (archive_form if intent == "archive" else form).add_error(None, exc.message)
    project.refresh_from_db()
    context = {
        "project": project,
        "form": form,
        "archive_form": archive_form,
        "settings_nav": _settings_nav(project, "general"),
    }
    return render(request, "projects/settings_general.html", context)


# --- environments -------------------------------------------------------------------------


def _environment_context(project, **extra) -> dict:
    environments = list(
        Environment.objects.filter(project=project)
        .annotate(deployment_count=Count("deployments"))
        .order_by("order")
    )
    active = [e for e in environments if e.retired_at is None]
    for index, env in enumerate(active, start=1):
        # The template reads these two beside the model's fields (not declared on the model).
        row = cast(Any, env)
        row.position = index
        row.edit_form = EnvironmentEditForm(
            initial={"display_name": env.display_name, "tier": env.tier},
            prefix=f"env-{env.name}",
        )
    context = {
        "project": project,
        "active": active,
        "retired": [e for e in environments if e.retired_at is not None],
        "add_form": EnvironmentAddForm(),
        "settings_nav": _settings_nav(project, "environments"),
        "error": None,
        "error_env": None,
    }
    context.update(extra)
    return context


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def environment_settings(request, slug):
    """The ordered environments; POST adds one (the other changes post to their own URLs)."""
    project = _managed_project(request, slug)
    if request.method == "POST":
        form = EnvironmentAddForm(request.POST)
        if form.is_valid():
            try:
                env = services.environment_create(
                    project=project,
                    name=form.cleaned_data["name"],
                    tier=form.cleaned_data["tier"],
                    display_name=form.cleaned_data["display_name"],
                    position=form.cleaned_data["position"],
                    actor=request.user,
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, f"Environment {env} added.")
                return redirect("projects:settings-environments", project.slug)
        return render(
            request,
            "projects/settings_environments.html",
            _environment_context(project, add_form=form),
        )
    return render(request, "projects/settings_environments.html", _environment_context(project))


def _environment_refused(request, project, env, message: str):
    return render(
        request,
        "projects/settings_environments.html",
        _environment_context(project, error=message, error_env=env.name if env else None),
    )


@login_required
@require_POST
def environment_edit(request, slug, environment):
    project = _managed_project(request, slug)
    env = environment_by_name(project=project, name=environment)
    form = EnvironmentEditForm(request.POST, prefix=f"env-{env.name}")
    if not form.is_valid():
        return _environment_refused(
            request, project, env, f"{env} was not changed: " + _form_errors(form)
        )
    try:
        services.environment_update(
            environment=env,
            actor=request.user,
            display_name=form.cleaned_data["display_name"],
            tier=form.cleaned_data["tier"],
        )
    except DomainError as exc:
        return _environment_refused(request, project, env, exc.message)
    messages.success(request, f"Environment {env.name} saved.")
    return redirect("projects:settings-environments", project.slug)


@login_required
@require_POST
def environment_move(request, slug, environment):
    """Move one environment a place earlier or later (the buttons beside each row)."""
    project = _managed_project(request, slug)
    env = environment_by_name(project=project, name=environment)
    names = list(
        Environment.objects.filter(project=project, retired_at__isnull=True)
        .order_by("order")
        .values_list("name", flat=True)
    )
    direction = request.POST.get("direction")
    if env.name in names and direction in ("up", "down"):
        index = names.index(env.name)
        other = index - 1 if direction == "up" else index + 1
        if 0 <= other < len(names):
            names[index], names[other] = names[other], names[index]
    try:
        services.environment_reorder(project=project, names=names, actor=request.user)
    except DomainError as exc:
        return _environment_refused(request, project, env, exc.message)
    return redirect("projects:settings-environments", project.slug)


@login_required
@require_POST
def environment_reorder_view(request, slug):
    """The whole order at once: one position number per active environment."""
    project = _managed_project(request, slug)
    active = list(
        Environment.objects.filter(project=project, retired_at__isnull=True).order_by("order")
    )
    positions = []
    for env in active:
        raw = request.POST.get(f"position-{env.name}", "").strip()
        if not raw.isdigit() or len(raw) > 4:
            return _environment_refused(
                request, project, None, f"Give {env} a position as a whole number."
            )
        positions.append((int(raw), env.name))
    numbers = [p for p, _ in positions]
    if sorted(numbers) != list(range(1, len(active) + 1)):
        return _environment_refused(
            request,
            project,
            None,
            f"The positions must be 1 to {len(active)}, each used once; nothing was changed.",
        )
    names = [name for _, name in sorted(positions)]
    try:
        services.environment_reorder(project=project, names=names, actor=request.user)
    except DomainError as exc:
        return _environment_refused(request, project, None, exc.message)
    messages.success(request, "New promotion order saved: " + " → ".join(names) + ".")
    return redirect("projects:settings-environments", project.slug)


@login_required
@require_POST
def environment_retire_view(request, slug, environment):
    project = _managed_project(request, slug)
    env = environment_by_name(project=project, name=environment)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return _environment_refused(request, project, env, _form_errors(form))
    try:
        services.environment_retire(
            environment=env, actor=request.user, reason=form.cleaned_data["reason"]
        )
    except DomainError as exc:
        return _environment_refused(request, project, env, exc.message)
    messages.success(
        request, f"{env} is retired: it left the promotion order and keeps its history."
    )
    return redirect("projects:settings-environments", project.slug)


def _form_errors(form) -> str:
    return " ".join(f"{field}: {' '.join(errors)}" for field, errors in form.errors.items())


# --- people ---------------------------------------------------------------------------


def _people_context(project, **extra) -> dict:
    role_labels = dict(Role.choices)
    people: dict[int, dict] = {}
    for membership in (
        Membership.objects.filter(project=project)
        .select_related("user")
        .order_by("user__username", "role")
    ):
        entry = people.setdefault(membership.user_id, {"user": membership.user, "roles": []})
        entry["roles"].append({"value": membership.role, "label": role_labels[membership.role]})
    context = {
        "project": project,
        "people": list(people.values()),
        "add_form": MemberAddForm(),
        "roles": Role.choices,
        "settings_nav": _settings_nav(project, "people"),
        "error": None,
    }
    context.update(extra)
    return context


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def people_settings(request, slug):
    """Who holds which role; POST gives an existing person a role."""
    project = _managed_project(request, slug)
    if request.method == "POST":
        form = MemberAddForm(request.POST)
        if form.is_valid():
            try:
                person = person_find(identifier=form.cleaned_data["person"])
                already = Membership.objects.filter(
                    project=project, user=person, role=form.cleaned_data["role"]
                ).exists()
                services.membership_grant(
                    project=project,
                    user=person,
                    role=form.cleaned_data["role"],
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                label = Role(form.cleaned_data["role"]).label
                messages.success(
                    request,
                    f"{person.get_username()} already holds the {label} role."
                    if already
                    else f"{person.get_username()} now holds the {label} role in {project.name}.",
                )
                return redirect("projects:settings-people", project.slug)
        return render(
            request, "projects/settings_people.html", _people_context(project, add_form=form)
        )
    return render(request, "projects/settings_people.html", _people_context(project))


@login_required
@require_POST
def people_remove(request, slug):
    project = _managed_project(request, slug)
    form = MemberRemoveForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "projects/settings_people.html",
            _people_context(project, error="Nothing was changed: " + _form_errors(form)),
        )
    person = get_user_model().objects.filter(pk=form.cleaned_data["user"]).first()
    if person is None:
        raise Http404("No such person.")
    try:
        services.membership_revoke(
            project=project,
            user=person,
            role=form.cleaned_data["role"],
            actor=request.user,
            reason=form.cleaned_data["reason"],
        )
    except DomainError as exc:
        return render(
            request, "projects/settings_people.html", _people_context(project, error=exc.message)
        )
    messages.success(
        request,
        f"{person.get_username()} no longer holds the {Role(form.cleaned_data['role']).label} role.",
    )
    return redirect("projects:settings-people", project.slug)


# --- first run -----------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
def setup_view(request):
    """Create the first administrator; exists only while nobody has an account."""
    if get_user_model().objects.exists():
        raise Http404("This Shipcheck is set up already.")
    form = SetupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.first_admin_create(
                username=form.cleaned_data["username"],
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
            messages.success(
                request,
                f"Welcome, {user.get_username()}: you are this Shipcheck's administrator. "
                "Create the first project.",
            )
            return redirect("projects:create")
    return render(request, "projects/setup.html", {"form": form})
