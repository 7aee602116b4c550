"""Pages of the accounts app: sign-in, invitations, provider groups, people, sessions, and
the person's own account settings (the time zone)."""

from __future__ import annotations

import logging

from allauth.account.internal.flows.login import record_authentication
from allauth.account.utils import perform_login
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

# The views share the services' names (invitation_accept ...): reached as services.<name>.
from accounts import selectors, services
from accounts.exceptions import InvitationUnusable
from accounts.forms import (
    AcceptForm,
    DeactivateForm,
    GroupMappingForm,
    InvitationForm,
    ProjectSecurityForm,
    ThrottledAuthenticationForm,
)
from accounts.models import ProjectSecurity
from accounts.permissions import is_staff
from core.exceptions import DomainError, NotFound, ValidationFailed
from core.profiles import (
    COOKIE_NAME,
    SESSION_KEY,
    profile_time_zone,
    time_zone_names,
    valid_time_zone,
)
from projects.choices import Role

logger = logging.getLogger(__name__)

# The invitation's secret moves from the link into the session at once, so it is not
# left in the address bar, the browser history, Referer headers or request logs.
SESSION_TOKEN_KEY = "shipcheck_invitation"  # noqa: S105 - a session key name


def oidc_context() -> dict:
    """The identity provider button on the sign-in page, when one is configured."""
    apps = settings.SOCIALACCOUNT_PROVIDERS.get("openid_connect", {}).get("APPS", [])
    if not apps:
        return {}
    app = apps[0]
    return {
        "oidc_label": app.get("name") or "Sign in with single sign-on",
        "oidc_login_url": reverse("openid_connect_login", args=[app["provider_id"]]),
    }


class LoginView(auth_views.LoginView):
    """Django's username + password sign-in, throttled, finished by allauth's login flow
    (so a second factor is asked when the person has one, and the session is tracked)."""

    template_name = "registration/login.html"
    form_class = ThrottledAuthenticationForm

    def form_valid(self, form):
        user = form.get_user()
        # Recorded as allauth's own password form does, so setting up a second factor right
        # after signing in needs no second password prompt.
        record_authentication(self.request, user, method="password", username=user.get_username())
        return perform_login(self.request, user, redirect_url=self.get_success_url())

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **oidc_context()}


# --- Invitations: the invitee ---------------------------------------------------------


@require_safe
@never_cache
def invitation_open(request, token):
    request.session[SESSION_TOKEN_KEY] = str(token)[:200]
    return redirect("accounts:invitation-accept")


def _unusable(request, message: str, status: int = 410):
    return render(request, "accounts/invitation_unusable.html", {"message": message}, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
def invitation_accept(request):
    token = request.session.get(SESSION_TOKEN_KEY, "")
    if not token:
        return _unusable(
            request,
            "Open the link from your invitation e-mail to accept it.",
            status=400,
        )
    invitation = selectors.invitation_by_token(token)
    try:
        invitation = services.invitation_check(invitation)  # the same object, not None
    except InvitationUnusable as exc:
        request.session.pop(SESSION_TOKEN_KEY, None)
        return _unusable(request, exc.message)
    signed_in = request.user.is_authenticated
    form = AcceptForm(initial={"username": invitation.email.split("@")[0]})
    if request.method == "POST":
        form = AcceptForm(request.POST) if not signed_in else form
        try:
            if signed_in:
                _, user = services.invitation_accept(token=token, user=request.user)
            else:
                _, user = services.invitation_accept(
                    token=token,
                    username=request.POST.get("username", ""),
                    password=request.POST.get("password", ""),
                    password_again=request.POST.get("password_again", ""),
                )
        except InvitationUnusable as exc:
            request.session.pop(SESSION_TOKEN_KEY, None)
            return _unusable(request, exc.message)
        except DomainError as exc:
            form.is_valid()
            for field, errors in exc.details.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
            if not form.errors:
                form.add_error(None, exc.message)
        else:
            request.session.pop(SESSION_TOKEN_KEY, None)
            if not signed_in:
                user.backend = "django.contrib.auth.backends.ModelBackend"
                response = perform_login(
                    request,
                    user,
                    redirect_url=reverse("projects:detail", args=[invitation.project.slug]),
                )
            else:
                response = redirect("projects:detail", slug=invitation.project.slug)
            messages.success(
                request,
                f"Welcome to {invitation.project.name}: you hold the roles "
                f"{', '.join(invitation.role_labels)}.",
            )
            return response
    return render(
        request,
        "accounts/invitation_accept.html",
        {"invitation": invitation, "form": form, "signed_in": signed_in},
    )


# --- Invitations: the project admin ----------------------------------------------------


def _invitation_context(project, form):
    return {
        "project": project,
        "form": form,
        "invitations": list(selectors.invitation_list(project=project)),
        "invitation_days": settings.SHIPCHECK_INVITATION_DAYS,
    }


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def invitation_list(request, slug):
    project = selectors.managed_project_get(user=request.user, slug=slug)
    form = InvitationForm()
    if request.method == "POST":
        form = InvitationForm(request.POST)
        if form.is_valid():
            try:
                invitation, _ = services.invitation_create(
                    project=project,
                    email=form.cleaned_data["email"],
                    roles=form.cleaned_data["roles"],
                    actor=request.user,
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, f"Invitation sent to {invitation.email}.")
                return redirect("accounts:invitations", slug=project.slug)
    return render(request, "accounts/invitations.html", _invitation_context(project, form))


@login_required
@require_POST
def invitation_resend(request, slug, pk):
    project = selectors.managed_project_get(user=request.user, slug=slug)
    invitation = selectors.invitation_get(project=project, pk=pk)
    try:
        invitation, _ = services.invitation_resend(invitation=invitation, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"Invitation sent again to {invitation.email}; the earlier link no longer works.",
        )
    return redirect("accounts:invitations", slug=project.slug)


@login_required
@require_POST
def invitation_revoke(request, slug, pk):
    project = selectors.managed_project_get(user=request.user, slug=slug)
    invitation = selectors.invitation_get(project=project, pk=pk)
    try:
        services.invitation_revoke(invitation=invitation, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"Invitation of {invitation.email} revoked; its link no longer works."
        )
    return redirect("accounts:invitations", slug=project.slug)


# --- Provider groups ---------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def group_mapping_list(request, slug):
    project = selectors.managed_project_get(user=request.user, slug=slug)
    form = GroupMappingForm()
    if request.method == "POST":
        form = GroupMappingForm(request.POST)
        if form.is_valid():
            try:
                mapping = services.group_mapping_add(
                    project=project,
                    group=form.cleaned_data["group"],
                    role=form.cleaned_data["role"],
                    actor=request.user,
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request,
                    f"Members of “{mapping.group}” get the role {mapping.get_role_display()} "
                    "at their next sign-in through the identity provider.",
                )
                return redirect("accounts:group-mappings", slug=project.slug)
    context = {
        "project": project,
        "form": form,
        "mappings": list(selectors.group_mapping_list(project=project)),
        "oidc_configured": bool(oidc_context()),
    }
    return render(request, "accounts/group_mappings.html", context)


@login_required
@require_POST
def group_mapping_remove(request, slug, pk):
    project = selectors.managed_project_get(user=request.user, slug=slug)
    mapping = selectors.group_mapping_get(project=project, pk=pk)
    services.group_mapping_remove(mapping=mapping, actor=request.user)
    messages.success(
        request,
        f"“{mapping.group}” no longer gives {mapping.get_role_display()}; people lose that role "
        "at their next sign-in through the identity provider.",
    )
    return redirect("accounts:group-mappings", slug=project.slug)


# --- Project sign-in rules --------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def project_security(request, slug):
    project = selectors.managed_project_get(user=request.user, slug=slug)
    security = ProjectSecurity.objects.filter(project=project).first()
    current = bool(security and security.require_mfa_for_approvers)
    form = ProjectSecurityForm(initial={"require_mfa_for_approvers": current})
    if request.method == "POST":
        form = ProjectSecurityForm(request.POST)
        if form.is_valid():
            services.project_security_update(
                project=project,
                actor=request.user,
                require_mfa_for_approvers=form.cleaned_data["require_mfa_for_approvers"],
            )
            messages.success(request, "Sign-in rules saved.")
            return redirect("accounts:project-security", slug=project.slug)
    approver_roles = [dict(Role.choices)[r] for r in (Role.APPROVER, Role.EMERGENCY_APPROVER)]
    return render(
        request,
        "accounts/project_security.html",
        {"project": project, "form": form, "current": current, "approver_roles": approver_roles},
    )


# --- People (staff) ----------------------------------------------------------------------


def _require_staff(user) -> None:
    if not is_staff(user):
        raise NotFound("No such page.")


@login_required
@require_safe
def people_list(request):
    _require_staff(request.user)
    query = request.GET.get("q", "")
    people = list(selectors.people_list(user=request.user, query=query)[:500])
    return render(request, "accounts/people.html", {"people": people, "query": query[:100]})


@login_required
@require_POST
def person_deactivate(request, username):
    _require_staff(request.user)
    person = selectors.person_get(user=request.user, username=username)
    form = DeactivateForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.user_deactivate(user=person, actor=request.user, reason=reason)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"{person.get_username()} is deactivated: their sessions ended and their API tokens "
            "are refused. Their history stays.",
        )
    return redirect("accounts:people")


@login_required
@require_POST
def person_reactivate(request, username):
    _require_staff(request.user)
    person = selectors.person_get(user=request.user, username=username)
    services.user_reactivate(user=person, actor=request.user)
    messages.success(request, f"{person.get_username()} may sign in again.")
    return redirect("accounts:people")


# --- My sessions and security -------------------------------------------------------------


@login_required
@require_safe
def my_security(request):
    from allauth.mfa.models import Authenticator

    authenticators = {
        a.type: a for a in Authenticator.objects.filter(user=request.user).order_by("created_at")
    }
    passkeys = Authenticator.objects.filter(
        user=request.user, type=Authenticator.Type.WEBAUTHN
    ).count()
    sessions = selectors.session_list(user=request.user)
    current = request.session.session_key
    return render(
        request,
        "accounts/security.html",
        {
            "totp": authenticators.get(Authenticator.Type.TOTP),
            "recovery": authenticators.get(Authenticator.Type.RECOVERY_CODES),
            "passkeys": passkeys,
            "sessions": sessions,
            "current_key": current,
            "others": [s for s in sessions if s.session_key != current],
        },
    )


@login_required
@require_POST
def session_end(request):
    current = request.session.session_key
    wanted = request.POST.get("session", "")
    if wanted == "others":
        keys = [
            s.session_key
            for s in selectors.session_list(user=request.user)
            if s.session_key != current
        ]
    else:
        keys = [wanted] if wanted and wanted != current else []
    ended = sum(
        services.session_end(user=request.user, session_key=key, actor=request.user) for key in keys
    )
    if ended:
        messages.success(request, f"Ended {ended} session{'s' if ended != 1 else ''}.")
    else:
        messages.info(request, "No other session to end (use Log out for this one).")
    return redirect("accounts:security")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def account(request):
    """The person's own settings: the time zone every page shows and reads times in."""
    error = ""
    status = 200
    if request.method == "POST":
        try:
            services.profile_time_zone_set(
                user=request.user, time_zone=request.POST.get("time_zone", ""), actor=request.user
            )
        except ValidationFailed as exc:
            error, status = exc.message, 200
        else:
            request.session.pop(SESSION_KEY, None)
            messages.success(request, "Your time zone is saved: every time is shown in it.")
            return redirect("account")
    chosen = profile_time_zone(user=request.user)
    context = {
        "chosen": chosen,
        "browser_zone": valid_time_zone(request.COOKIES.get(COOKIE_NAME)),
        "zones": time_zone_names(),
        "error": error,
    }
    return render(request, "accounts/account.html", context, status=status)
