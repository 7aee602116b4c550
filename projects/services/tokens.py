"""API tokens: create one (its secret shown once) and revoke it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import cast

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from core.exceptions import ValidationFailed
from projects.choices import Role, TokenScope
from projects.models import ApiToken, Project
from projects.permissions import can_admin_project, role_refusal
from projects.principals import Actor, Person
from projects.tokens import token_generate


@transaction.atomic
def api_token_create(
    *,
    project: Project,
    name: str,
    scopes: Iterable[str],
    actor: Actor,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a token; return it with the plain secret, which is never stored or shown again.

    Audit: ``api_token.created`` (without the secret).
    """
    if actor is not None and not can_admin_project(actor, project):
        raise role_refusal(Role.ADMIN, to="create API tokens")
    scopes = sorted(set(scopes))
    unknown = [s for s in scopes if s not in TokenScope.values]
    if unknown or not scopes:
        raise ValidationFailed(
            f"Choose one or more scopes among {', '.join(TokenScope.values)}"
            + (f"; unknown: {', '.join(unknown)}." if unknown else ".")
        )
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("A token needs a name that says where it is used.")
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationFailed("The expiry must be in the future.")
    plain, prefix, key_hash = token_generate()
    token = ApiToken.objects.create(
        project=project,
        name=name[:80],
        prefix=prefix,
        key_hash=key_hash,
        scopes=scopes,
        # Only a person has a pk (a token's principal has none).
        created_by=cast(Person, actor) if getattr(actor, "pk", None) else None,
        expires_at=expires_at,
    )
    audit_record(
        actor=actor,
        action="api_token.created",
        obj=token,
        project=project,
        to_state="active",
        data={
            "scopes": scopes,
            "prefix": prefix,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return token, plain


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: Actor) -> ApiToken:
    """Revoke a token at once. Audit: ``api_token.revoked``."""
    if not can_admin_project(actor, token.project_id):
        raise role_refusal(Role.ADMIN, to="revoke API tokens")
    updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    token.refresh_from_db()
    if updated:
        audit_record(
            actor=actor,
            action="api_token.revoked",
            obj=token,
            project=token.project_id,
            from_state="active",
            to_state="revoked",
        )
    return token
