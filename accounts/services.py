"""Every write of the accounts app: invitations, deactivation, provider groups, sign-in rules."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.choices import InvitationStatus
from accounts.exceptions import InvitationUnusable
from accounts.models import GroupRoleMapping, Invitation, ProjectSecurity
from accounts.permissions import can_manage_people, is_staff
from accounts.tokens import invitation_hash, invitation_secret
from audit.services import audit_record
from core.exceptions import DomainError, PermissionDenied, ValidationFailed
from projects.choices import Role
from projects.models import ApiToken, Membership, Project
from projects.services import membership_grant, membership_revoke

logger = logging.getLogger(__name__)
User = get_user_model()

EMAIL_MAX = 254


def _grant(*, project, user, role, reason: str):
    return membership_grant(project=project, user=user, role=role, actor=None, reason=reason)


def _revoke(*, project, user, role, reason: str):
    return membership_revoke(project=project, user=user, role=role, actor=None, reason=reason)


def _require_manager(actor, project, what: str) -> None:
    if not can_manage_people(actor, project):
        raise PermissionDenied(f"Only a project admin or a staff administrator may {what}.")


def _clean_roles(roles: Iterable[str]) -> list[str]:
    if isinstance(roles, str):
        roles = [roles]
    try:
        chosen = sorted({str(r).strip() for r in roles if str(r).strip()})
    except TypeError:
        chosen = []
    unknown = [r for r in chosen if r not in Role.values]
    if unknown:
        raise ValidationFailed(
            f"Unknown role '{unknown[0][:40]}'. Known roles: {', '.join(Role.values)}.",
            details={"roles": [f"Choose among {', '.join(Role.values)}."]},
        )
    if not chosen:
        raise ValidationFailed(
            "Choose at least one role for the person you invite.",
            details={"roles": ["Choose at least one role."]},
        )
    return chosen


def _clean_email(email) -> str:
    email = str(email or "").strip()
    try:
        if not email or len(email) > EMAIL_MAX:
            raise ValidationError("empty")
        validate_email(email)
    except ValidationError:
        raise ValidationFailed(
            "Enter the e-mail address of the person you invite, like name@example.com.",
            details={"email": ["Enter a valid e-mail address."]},
        ) from None
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def invitation_link(plain: str) -> str:
    return f"{settings.SHIPCHECK_BASE_URL.rstrip('/')}/invitations/{plain}/"


def _send_invitation(invitation: Invitation, plain: str, *, inviter_name: str) -> None:
    """Queue the invitation e-mail after commit. The secret travels only in the e-mail."""
    from core.tasks import send_email

    days = max(1, round((invitation.expires_at - timezone.now()).total_seconds() / 86400))
    roles = ", ".join(invitation.role_labels)
    body = (
        f"{inviter_name} invites you to the project {invitation.project.name} in Shipcheck, "
        f"as {roles}.\n\n"
        f"Open this link to choose your username and password, or to add the project to the "
        f"account you already have:\n\n{invitation_link(plain)}\n\n"
        f"The link works once and expires in {days} day{'s' if days != 1 else ''} "
        f"({invitation.expires_at:%Y-%m-%d %H:%M} UTC). If you did not expect it, ignore this e-mail."
    )
    subject = f"You are invited to {invitation.project.name}"
    to = [invitation.email]
    transaction.on_commit(lambda: send_email.delay(subject=subject, body=body, to=to))


def _person_name(user) -> str:
    if user is None:
        return "Shipcheck"
    return user.get_full_name() or user.get_username()


def _audit_data(invitation: Invitation) -> dict:
    # Never the link or its hash: the audit trail is exported to auditors.
    return {
        "email": invitation.email,
        "roles": list(invitation.roles),
        "expires_at": invitation.expires_at.isoformat(),
    }


@transaction.atomic
def invitation_create(
    *, project: Project, email: str, roles: Iterable[str], actor
) -> tuple[Invitation, str]:
    """Invite ``email`` to ``project`` with ``roles``; e-mail the link after commit.

    Callers: a project admin or Django staff. A pending invitation of the same
    address to the same project is refused (resend it instead). Returns the
    invitation and the link's secret, which is stored only as a hash.
    Audit: ``invitation.created``.
    """
    _require_manager(actor, project, "invite people")
    email = _clean_email(email)
    roles = _clean_roles(roles)
    project = Project.objects.select_for_update().get(pk=project.pk)
    now = timezone.now()
    pending = Invitation.objects.filter(
        project=project,
        email__iexact=email,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=now,
    ).exists()
    if pending:
        raise ValidationFailed(
            f"{email} already has a pending invitation to {project.name}: resend or revoke it.",
            details={"email": ["An invitation to this address is pending."]},
            code="invitation_pending",
        )
    plain, token_hash = invitation_secret()
    invitation = Invitation.objects.create(
        project=project,
        email=email,
        roles=roles,
        token_hash=token_hash,
        invited_by=actor,
        created_at=now,
        expires_at=now + timedelta(days=settings.SHIPCHECK_INVITATION_DAYS),
        sent_at=now,
        send_count=1,
    )
    audit_record(
        actor=actor,
        action="invitation.created",
        obj=invitation,
        project=project,
        to_state=InvitationStatus.PENDING,
        data=_audit_data(invitation),
    )
    _send_invitation(invitation, plain, inviter_name=_person_name(actor))
    return invitation, plain


def _lock_invitation(invitation: Invitation) -> Invitation:
    return Invitation.objects.select_for_update().select_related("project").get(pk=invitation.pk)


@transaction.atomic
def invitation_resend(*, invitation: Invitation, actor) -> tuple[Invitation, str]:
    """Send a pending or expired invitation again with a new link and a new expiry.

    The previous link stops working. Audit: ``invitation.resent``.
    """
    _require_manager(actor, invitation.project, "resend invitations")
    invitation = _lock_invitation(invitation)
    status = invitation.status
    if status in (InvitationStatus.ACCEPTED, InvitationStatus.REVOKED):
        raise InvitationUnusable(
            f"This invitation was {status}; invite {invitation.email} again instead."
        )
    now = timezone.now()
    plain, invitation.token_hash = invitation_secret()
    invitation.expires_at = now + timedelta(days=settings.SHIPCHECK_INVITATION_DAYS)
    invitation.sent_at = now
    invitation.send_count += 1
    invitation.save(update_fields=["token_hash", "expires_at", "sent_at", "send_count"])
    audit_record(
        actor=actor,
        action="invitation.resent",
        obj=invitation,
        project=invitation.project,
        from_state=status,
        to_state=InvitationStatus.PENDING,
        data=_audit_data(invitation),
    )
    _send_invitation(invitation, plain, inviter_name=_person_name(actor))
    return invitation, plain


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor) -> Invitation:
    """Revoke an invitation that was not accepted: its link stops working at once.

    Audit: ``invitation.revoked``.
    """
    _require_manager(actor, invitation.project, "revoke invitations")
    invitation = _lock_invitation(invitation)
    status = invitation.status
    if status == InvitationStatus.ACCEPTED:
        raise InvitationUnusable("This invitation was already accepted; remove the roles instead.")
    if status == InvitationStatus.REVOKED:
        return invitation
    invitation.revoked_at = timezone.now()
    invitation.revoked_by = actor
    invitation.save(update_fields=["revoked_at", "revoked_by"])
    audit_record(
        actor=actor,
        action="invitation.revoked",
        obj=invitation,
        project=invitation.project,
        from_state=status,
        to_state=InvitationStatus.REVOKED,
        data=_audit_data(invitation),
    )
    return invitation


UNUSABLE_MESSAGES = {
    InvitationStatus.ACCEPTED: "This invitation link was already used. Log in with the account "
    "that accepted it, or ask a project admin for a new invitation.",
    InvitationStatus.EXPIRED: "This invitation link has expired. Ask the person who invited you "
    "to send it again.",
    InvitationStatus.REVOKED: "This invitation was revoked, so the link no longer works. Ask a "
    "project admin if you still need access.",
}
UNKNOWN_LINK_MESSAGE = (
    "This invitation link is not valid. It may have been replaced by a newer e-mail: use the "
    "latest invitation you received, or ask a project admin for a new one."
)


def invitation_check(invitation: Invitation | None) -> Invitation:
    """Raise ``InvitationUnusable`` with the reason unless ``invitation`` may be accepted now."""
    if invitation is None:
        raise InvitationUnusable(UNKNOWN_LINK_MESSAGE, code="invitation_unknown")
    status = invitation.status
    if status != InvitationStatus.PENDING:
        raise InvitationUnusable(UNUSABLE_MESSAGES[status], code=f"invitation_{status}")
    return invitation


def _clean_new_account(*, username: str, password: str, password_again: str, email: str) -> str:
    errors: dict[str, list[str]] = {}
    username = str(username or "").strip()
    if not username:
        errors["username"] = ["Choose a username."]
    elif len(username) > 150:
        errors["username"] = ["Use at most 150 characters."]
    else:
        try:
            UnicodeUsernameValidator()(username)
        except ValidationError:
            errors["username"] = ["Use letters, digits and @ . + - _ only."]
        else:
            if User.objects.filter(username__iexact=username).exists():
                errors["username"] = ["This username is taken; choose another."]
    if password != password_again:
        errors["password_again"] = ["The two passwords differ."]
    try:
        password_validation.validate_password(password or "", User(username=username, email=email))
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    if errors:
        first = next(iter(errors.values()))[0]
        raise ValidationFailed(first, details=errors)
    return username


def _email_verified(user, email: str) -> None:
    """Following the e-mailed link proves the address: record it as verified for allauth, so a
    later sign-in through the provider with the same address reaches this account (and allauth
    does not wipe its password as it does for unproven addresses)."""
    from allauth.account.models import EmailAddress

    if EmailAddress.objects.filter(user=user, email__iexact=email, verified=True).exists():
        return
    try:
        with transaction.atomic():
            address, _ = EmailAddress.objects.get_or_create(
                user=user, email=email, defaults={"verified": True}
            )
            if not address.verified:
                address.verified = True
                address.save(update_fields=["verified"])
    except IntegrityError:  # another account holds this address verified already
        logger.info("Invitation address already verified for another account")


@transaction.atomic
def invitation_accept(
    *,
    token: str,
    user=None,
    username: str = "",
    password: str = "",
    password_again: str = "",
):
    """Accept the invitation whose link carries ``token`` and grant its roles.

    Either into ``user`` (signed in already) or into a new account made from
    ``username`` and ``password``. The link works once; an expired, revoked,
    used or unknown link changes nothing and says why. Roles are granted through
    ``projects.services.membership_grant`` (``membership.granted`` each).
    Audit: ``invitation.accepted`` (and ``user.created`` for a new account).
    Returns ``(invitation, user)``.
    """
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("project", "invited_by")
        .filter(token_hash=invitation_hash(token))
        .first()
    )
    invitation_check(invitation)
    now = timezone.now()
    created = False
    if user is None or not getattr(user, "is_authenticated", False):
        username = _clean_new_account(
            username=username,
            password=password,
            password_again=password_again,
            email=invitation.email,
        )
        user = User.objects.create_user(
            username=username, email=invitation.email, password=password
        )
        created = True
        audit_record(
            actor=user,
            action="user.created",
            obj=user,
            object_repr=user.get_username(),
            project=invitation.project,
            to_state="active",
            data={"username": user.get_username(), "email": invitation.email, "via": "invitation"},
        )
    elif not user.is_active:
        raise PermissionDenied("This account is deactivated and cannot accept invitations.")
    elif not user.email:
        user.email = invitation.email
        user.save(update_fields=["email"])
    _email_verified(user, invitation.email)
    reason = f"Accepted the invitation sent to {invitation.email}"
    if invitation.invited_by is not None:
        reason += f" by {invitation.invited_by.get_username()}"
    for role in invitation.roles:
        _grant(project=invitation.project, user=user, role=role, reason=reason + ".")
    invitation.accepted_at = now
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit_record(
        actor=user,
        action="invitation.accepted",
        obj=invitation,
        project=invitation.project,
        from_state=InvitationStatus.PENDING,
        to_state=InvitationStatus.ACCEPTED,
        data={**_audit_data(invitation), "user": user.get_username(), "new_account": created},
    )
    return invitation, user


# --- Deactivation ---------------------------------------------------------------------


def _end_sessions(user) -> int:
    """Delete every session of ``user``: the ones allauth tracks and any other in the store."""
    from importlib import import_module

    from allauth.usersessions.models import UserSession

    ended = 0
    store = import_module(settings.SESSION_ENGINE).SessionStore
    keys = list(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
    for key in keys:
        store().delete(key)
        ended += 1
    UserSession.objects.filter(user=user).delete()
    if settings.SESSION_ENGINE == "django.contrib.sessions.backends.db":
        # Sessions opened without the tracker (e.g. by the test client): look through the store.
        from django.contrib.sessions.models import Session

        stale = []
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
            if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
                stale.append(session.session_key)
        ended += Session.objects.filter(session_key__in=stale).delete()[0]
    return ended


@transaction.atomic
def user_deactivate(*, user, actor, reason: str = ""):
    """Deactivate a person: they cannot sign in, their sessions end, their tokens stop working.

    Callers: Django staff, never on themselves. Their history (memberships, approvals,
    audit events) stays. API tokens they created are refused from now on
    (``projects/authentication.py``). Audit: ``user.deactivated``.
    """
    if not is_staff(actor):
        raise PermissionDenied("Only a staff administrator may deactivate people.")
    if user.pk == actor.pk:
        raise ValidationFailed("You cannot deactivate yourself; ask another administrator.")
    reason = str(reason or "").strip()[:500]
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.is_active:
        return user
    user.is_active = False
    user.save(update_fields=["is_active"])
    sessions = _end_sessions(user)
    tokens = ApiToken.objects.filter(created_by=user, revoked_at__isnull=True).count()
    audit_record(
        actor=actor,
        action="user.deactivated",
        obj=user,
        object_repr=user.get_username(),
        from_state="active",
        to_state="inactive",
        reason=reason,
        data={
            "username": user.get_username(),
            "sessions_ended": sessions,
            "tokens_stopped": tokens,
        },
    )
    return user


@transaction.atomic
def user_reactivate(*, user, actor, reason: str = ""):
    """Let a deactivated person sign in again (their tokens work again). Audit: ``user.reactivated``."""
    if not is_staff(actor):
        raise PermissionDenied("Only a staff administrator may reactivate people.")
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_active:
        return user
    user.is_active = True
    user.save(update_fields=["is_active"])
    audit_record(
        actor=actor,
        action="user.reactivated",
        obj=user,
        object_repr=user.get_username(),
        from_state="inactive",
        to_state="active",
        reason=str(reason or "").strip()[:500],
        data={"username": user.get_username()},
    )
    return user


# --- Sessions -------------------------------------------------------------------------


@transaction.atomic
def session_end(*, user, session_key: str, actor) -> bool:
    """End one of ``user``'s own sessions (never another person's). Audit: ``session.ended``."""
    from allauth.usersessions.models import UserSession

    if actor is None or actor.pk != user.pk:
        raise PermissionDenied("You may end only your own sessions.")
    row = UserSession.objects.select_for_update().filter(user=user, session_key=session_key).first()
    if row is None:
        return False
    row.end()
    audit_record(
        actor=actor,
        action="session.ended",
        object_type="usersessions.usersession",
        object_id=row.pk,
        object_repr=f"{row.ip} ({row.user_agent[:60]})",
        from_state="active",
        to_state="ended",
        data={"ip": row.ip},
    )
    return True


# --- Provider groups → roles --------------------------------------------------------


def _clean_group(group) -> str:
    group = str(group or "").strip()
    if not group or len(group) > 150:
        raise ValidationFailed(
            "Name the provider's group (1 to 150 characters), exactly as the provider sends it.",
            details={"group": ["Enter the group's name."]},
        )
    return group


@transaction.atomic
def group_mapping_add(*, project: Project, group: str, role: str, actor) -> GroupRoleMapping:
    """Say that members of the provider's ``group`` hold ``role`` in ``project``.

    Takes effect at each person's next sign-in through the provider.
    Audit: ``group_mapping.added``.
    """
    _require_manager(actor, project, "map identity provider groups to roles")
    group = _clean_group(group)
    (role,) = _clean_roles([role])[:1]
    mapping, created = GroupRoleMapping.objects.get_or_create(
        project=project, group=group, role=role
    )
    if created:
        audit_record(
            actor=actor,
            action="group_mapping.added",
            obj=mapping,
            project=project,
            to_state=role,
            data={"group": group, "role": role},
        )
    return mapping


@transaction.atomic
def group_mapping_remove(*, mapping: GroupRoleMapping, actor) -> None:
    """Remove a mapping; roles it gave are taken away at the person's next provider sign-in.

    Audit: ``group_mapping.removed``.
    """
    _require_manager(actor, mapping.project, "map identity provider groups to roles")
    deleted, _ = GroupRoleMapping.objects.filter(pk=mapping.pk).delete()
    if deleted:
        audit_record(
            actor=actor,
            action="group_mapping.removed",
            object_type="accounts.grouprolemapping",
            object_id=mapping.pk,
            object_repr=str(mapping),
            project=mapping.project,
            from_state=mapping.role,
            data={"group": mapping.group, "role": mapping.role},
        )


@transaction.atomic
def provider_groups_sync(*, user, groups: Iterable[str]) -> dict:
    """Grant and revoke the mapped roles of ``user`` after a sign-in through the provider.

    In every project with mappings, each mapped role is held exactly when one of
    ``groups`` maps to it; roles that no mapping names are left alone. Changes
    go through ``membership_grant``/``membership_revoke`` (audited there) and
    the sync itself is audited as ``auth.groups_synced`` per project that changed.
    """
    groups = {str(g) for g in groups or [] if isinstance(g, str | int)}
    changes: dict[str, dict[str, list[str]]] = {}
    mappings = list(GroupRoleMapping.objects.select_related("project").order_by("project_id"))
    by_project: dict[int, list[GroupRoleMapping]] = {}
    for mapping in mappings:
        by_project.setdefault(mapping.project_id, []).append(mapping)
    held = set(Membership.objects.filter(user=user).values_list("project_id", "role"))
    for project_id, rows in by_project.items():
        project = rows[0].project
        mapped_roles = {m.role for m in rows}
        wanted = {m.role for m in rows if m.group in groups}
        granted = sorted(r for r in wanted if (project_id, r) not in held)
        revoked = sorted(r for r in mapped_roles - wanted if (project_id, r) in held)
        reason = "Follows the identity provider's groups: " + (", ".join(sorted(groups)) or "none")
        for role in list(granted):
            _grant(project=project, user=user, role=role, reason=reason[:500])
        for role in list(revoked):
            try:
                with transaction.atomic():
                    _revoke(project=project, user=user, role=role, reason=reason[:500])
            except DomainError as exc:  # e.g. the project's last admin keeps the role
                logger.info("Kept %s for %s in %s: %s", role, user.pk, project.slug, exc.code)
                revoked.remove(role)
        if granted or revoked:
            changes[project.slug] = {"granted": granted, "revoked": revoked}
            audit_record(
                actor=user,
                action="auth.groups_synced",
                object_type="auth.user",
                object_id=user.pk,
                object_repr=user.get_username(),
                project=project,
                reason=reason[:500],
                data={"groups": sorted(groups)[:50], "granted": granted, "revoked": revoked},
            )
    return changes


# --- Project sign-in rules ------------------------------------------------------------


@transaction.atomic
def project_security_update(*, project: Project, actor, require_mfa_for_approvers: bool):
    """Require (or not) a second factor of production and emergency approvers.

    Audit: ``project.security_changed``.
    """
    _require_manager(actor, project, "change sign-in rules")
    security, _ = ProjectSecurity.objects.select_for_update().get_or_create(project=project)
    before = security.require_mfa_for_approvers
    value = bool(require_mfa_for_approvers)
    if before != value:
        security.require_mfa_for_approvers = value
        security.updated_at = timezone.now()
        security.save(update_fields=["require_mfa_for_approvers", "updated_at"])
        audit_record(
            actor=actor,
            action="project.security_changed",
            obj=security,
            project=project,
            from_state="mfa_required" if before else "mfa_optional",
            to_state="mfa_required" if value else "mfa_optional",
            data={"require_mfa_for_approvers": value},
        )
    return security
