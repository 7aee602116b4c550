"""The first run: the first administrator of an empty instance."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from audit.services import audit_record
from core.exceptions import Conflict, ValidationFailed
from projects.principals import Person
from projects.services._common import _text

# Any constant works; it names the advisory lock that lets only one first administrator in.
_FIRST_RUN_LOCK_KEY = 0x5C5E7A9


@transaction.atomic
def first_admin_create(*, username: str, password: str, email: str = "") -> Person:
    """Create the first administrator (Django staff and superuser) of an empty instance.

    Only while nobody has an account: a second call, or a race lost to another first
    run, is refused. The password must pass the configured password validators.
    Audit: ``user.first_admin_created`` (by Shipcheck itself).
    """
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError as DjangoValidationError
    from django.db import connection

    User = get_user_model()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_FIRST_RUN_LOCK_KEY])
    if User.objects.exists():
        raise Conflict(
            "This Shipcheck already has people; the first administrator exists.",
            code="already_set_up",
        )
    username = _text(username, "Username", 150, required=True)
    email = _text(email, "E-mail", 254)
    if not isinstance(password, str) or not password:
        raise ValidationFailed("Choose a password.", details={"field": "password"})
    user = User(username=username, email=email, is_staff=True, is_superuser=True)
    try:
        user.full_clean(exclude=["password"])
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise ValidationFailed(" ".join(exc.messages), details={"field": "password"}) from None
    user.set_password(password)
    user.save()
    audit_record(
        actor=None,
        action="user.first_admin_created",
        obj=user,
        object_repr=user.get_username(),
        to_state="staff",
        data={"user": user.get_username()},
    )
    return user
