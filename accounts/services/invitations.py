"""Invitations: create, resend, revoke, and accept (into a new or a signed-in account)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import Any, cast

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.choices import InvitationStatus
from accounts.exceptions import InvitationUnusable
from accounts.models import Invitation
from accounts.services._common import User, _clean_roles, _grant, _require_manager
from accounts.tokens import invitation_hash, invitation_secret
from audit.services import audit_record
from core.exceptions import PermissionDenied, ValidationFailed
from projects.models import Project
from projects.principals import Actor, Person

logger = logging.getLogger("accounts.services")

EMAIL_MAX = 254


def _clean_email(email: Any) -> str:
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


def _person_name(user: Person | None) -> str:
    if user is None:
        return "Shipcheck"
    return user.get_full_name() or user.get_username()


def _audit_data(invitation: Invitation) -> dict[str, Any]:
    # Never the link or its hash: the audit trail is exported to auditors.
    return {
        "email": invitation.email,
        "roles": list(invitation.roles),
        "expires_at": invitation.expires_at.isoformat(),
    }


@transaction.atomic
def invitation_create(
    *, project: Project, email: str, roles: Iterable[str], actor: Actor
) -> tuple[Invitation, str]:
    """Invite ``email`` to ``project`` with ``roles``; e-mail the link after commit.

    Callers: a project admin or Django staff. A pending invitation of the same
    address to the same project is refused (resend it instead). Returns the
    invitation and the link's secret, which is stored only as a hash.
    Audit: ``invitation.created``.
    """
    actor = _require_manager(actor, project, "invite people")
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
def invitation_resend(*, invitation: Invitation, actor: Actor) -> tuple[Invitation, str]:
    """Send a pending or expired invitation again with a new link and a new expiry.

    The previous link stops working. Audit: ``invitation.resent``.
    """
    actor = _require_manager(actor, invitation.project, "resend invitations")
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
def invitation_revoke(*, invitation: Invitation, actor: Actor) -> Invitation:
    """Revoke an invitation that was not accepted: its link stops working at once.

    Audit: ``invitation.revoked``.
    """
    actor = _require_manager(actor, invitation.project, "revoke invitations")
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


UNUSABLE_MESSAGES: dict[str, str] = {
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


def _email_verified(user: Person, email: str) -> None:
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
    user: Person | AnonymousUser | None = None,
    username: str = "",
    password: str = "",
    password_again: str = "",
) -> tuple[Invitation, Person]:
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
    invitation = invitation_check(invitation)
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
    else:
        user = cast(Person, user)  # signed in: a person
        if not user.is_active:
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
