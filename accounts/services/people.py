"""People: deactivate and reactivate accounts, end one's own sessions."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.permissions import is_staff
from accounts.services._common import User
from audit.services import audit_record
from core.exceptions import PermissionDenied, ValidationFailed
from projects.models import ApiToken
from projects.principals import Actor, Person


def _end_sessions(user: Person) -> int:
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
def user_deactivate(*, user: Person, actor: Actor, reason: str = "") -> Person:
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
def user_reactivate(*, user: Person, actor: Actor, reason: str = "") -> Person:
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
def session_end(*, user: Person, session_key: str, actor: Actor) -> bool:
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
