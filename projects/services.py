from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from audit.services import audit_record
from core.exceptions import ValidationFailed
from projects.choices import DEFAULT_ENVIRONMENTS, Role, TokenScope
from projects.models import ApiToken, Environment, Membership, Project
from projects.permissions import can_admin_project, forget_roles, role_refusal
from projects.tokens import token_generate


@transaction.atomic
def project_create(
    *, name: str, slug: str | None = None, description: str = "", actor=None, admins: Iterable = ()
) -> Project:
    """Create a project with the default dev → staging → production environments.

    Audit: ``project.created``. The creator (if a person) becomes its admin.
    """
    slug = slugify(slug or name)[:60]
    if not slug:
        raise ValidationFailed("A project needs a name made of letters or digits.")
    if Project.objects.filter(slug=slug).exists():
        raise ValidationFailed(f"A project with the slug '{slug}' already exists.")
    project = Project.objects.create(name=name, slug=slug, description=description)
    for order, (env_name, display, tier) in enumerate(DEFAULT_ENVIRONMENTS, start=1):
        Environment.objects.create(
            project=project, name=env_name, display_name=display, tier=tier, order=order
        )
    for person in [actor, *admins]:
        if person is not None and getattr(person, "pk", None):
            Membership.objects.get_or_create(project=project, user=person, role=Role.ADMIN)
    audit_record(
        actor=actor, action="project.created", obj=project, project=project, to_state="active"
    )
    return project


@transaction.atomic
def membership_grant(*, project: Project, user, role: str, actor=None) -> Membership:
    """Give ``user`` a role in ``project``. Audit: ``membership.granted``."""
    if role not in Role.values:
        raise ValidationFailed(f"Unknown role '{role}'. Known roles: {', '.join(Role.values)}.")
    if actor is not None and not can_admin_project(actor, project):
        raise role_refusal(Role.ADMIN, to="change who holds which role")
    membership, created = Membership.objects.get_or_create(project=project, user=user, role=role)
    if created:
        audit_record(
            actor=actor,
            action="membership.granted",
            obj=membership,
            project=project,
            to_state=role,
            data={"user": user.get_username(), "role": role},
        )
    forget_roles(user)
    return membership


@transaction.atomic
def membership_revoke(*, project: Project, user, role: str, actor=None) -> None:
    """Take a role away. Audit: ``membership.revoked``."""
    if actor is not None and not can_admin_project(actor, project):
        raise role_refusal(Role.ADMIN, to="change who holds which role")
    deleted, _ = Membership.objects.filter(project=project, user=user, role=role).delete()
    if deleted:
        audit_record(
            actor=actor,
            action="membership.revoked",
            object_type="projects.membership",
            object_id=f"{project.pk}:{user.pk}:{role}",
            project=project,
            from_state=role,
            data={"user": user.get_username(), "role": role},
        )
    forget_roles(user)


@transaction.atomic
def api_token_create(
    *, project: Project, name: str, scopes: Iterable[str], actor, expires_at: datetime | None = None
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
        created_by=actor if getattr(actor, "pk", None) else None,
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
def api_token_revoke(*, token: ApiToken, actor) -> ApiToken:
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
