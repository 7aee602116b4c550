"""The approval policies page: each environment's policy; admins edit, everyone else reads."""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from approvals import services
from approvals.forms import PolicyForm, form_errors
from approvals.permissions import can_edit_policy
from approvals.selectors import policy_rows, project_for_admin
from approvals.views._common import fixable, is_fragment
from core.exceptions import DomainError, NotFound
from projects.models import Environment


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def policies(request: HttpRequest, slug: str) -> HttpResponse:
    """Each environment's approval policy; project admins edit them, everyone else reads."""
    project = project_for_admin(user=request.user, slug=slug)
    editable = can_edit_policy(request.user, project)
    errors: dict[int, list[str]] = {}
    status = 200
    if request.method == "POST":
        services.policy_authorize(project=project, actor=request.user)
        form = PolicyForm(request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            environment = Environment.objects.filter(
                project=project, pk=data.pop("environment")
            ).first()
            if environment is None:
                raise NotFound("No such environment in this project.")
            try:
                services.approval_policy_update(environment=environment, actor=request.user, **data)
            except DomainError as exc:
                if not fixable(exc):
                    raise
                errors[environment.pk] = [exc.message]
            else:
                messages.success(request, f"The policy of {environment} is saved.")
                if not is_fragment(request):
                    return redirect(reverse("approvals:policies", args=[project.slug]))
        else:
            env_id = request.POST.get("environment", "")
            errors[int(env_id) if env_id.isdigit() else 0] = form_errors(form)
    rows = []
    for environment, policy in policy_rows(project=project):
        rows.append(
            {
                "environment": environment,
                "policy": policy,
                "errors": errors.get(environment.pk, []),
                "roles": set(policy.approver_roles or []),
            }
        )
    context = {
        "project": project,
        "rows": rows,
        "editable": editable,
        "role_choices": cast(
            forms.MultipleChoiceField, PolicyForm.base_fields["approver_roles"]
        ).choices,
        "orphan_errors": errors.get(0, []),
    }
    return render(request, "approvals/policies.html", context, status=status)
