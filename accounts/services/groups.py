"""Identity provider groups mapped to project roles, and the sync at each provider sign-in."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.db import transaction

from accounts.models import GroupRoleMapping
from accounts.services._common import _clean_roles, _grant, _require_manager, _revoke
from audit.services import audit_record
from core.exceptions import DomainError, ValidationFailed
from projects.models import Membership, Project
from projects.principals import Actor, Person

logger = logging.getLogger("accounts.services")


def _clean_group(group: Any) -> str:
    group = str(group or "").strip()
    if not group or len(group) > 150:
        raise ValidationFailed(
            "Name the provider's group (1 to 150 characters), exactly as the provider sends it.",
            details={"group": ["Enter the group's name."]},
        )
    return group


@transaction.atomic
def group_mapping_add(*, project: Project, group: str, role: str, actor: Actor) -> GroupRoleMapping:
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
def group_mapping_remove(*, mapping: GroupRoleMapping, actor: Actor) -> None:
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
def provider_groups_sync(*, user: Person, groups: Iterable[str]) -> dict[str, dict[str, list[str]]]:
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
