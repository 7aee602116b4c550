"""Who may do what with checklists. Pages, API and services ask these same questions.

Ticking is for people: an API token can read a checklist but never tick it.
"""

from __future__ import annotations

from checklists.choices import ItemStatus
from projects.permissions import (
    can_admin_project,
    can_manage_release,
    can_view_project,
    holds_writing_role,
    is_person,
    roles_for,
)


def is_release_manager_of(user, release) -> bool:
    """The release's own manager, as long as they still belong to the project."""
    return (
        is_person(user)
        and release.release_manager_id == getattr(user, "pk", None)
        and holds_writing_role(user, release.project_id)
    )


def can_tick_item(user, item, release) -> bool:
    """A holder of the item's role in the project, or the release's manager."""
    if not is_person(user):
        return False
    if is_release_manager_of(user, release):
        return True
    return item.role in roles_for(user, release.project_id)


def can_untick_item(user, item, release) -> bool:
    """Undo a tick: whoever may tick. Restoring a not-applicable item: whoever may manage the checklist."""
    if item.status == ItemStatus.NOT_APPLICABLE:
        return can_manage_checklist(user, release)
    return can_tick_item(user, item, release)


def can_manage_checklist(user, release) -> bool:
    """Add ad-hoc items, mark items not applicable, start or extend the checklist."""
    return is_person(user) and can_manage_release(user, release)


def can_record_step_output(user, step_roles: set[str], release) -> bool:
    """Write a step's actual output: the release manager or anyone owning an item of the step."""
    if can_manage_checklist(user, release) or is_release_manager_of(user, release):
        return True
    return is_person(user) and bool(roles_for(user, release.project_id) & set(step_roles))


def can_view_template(user, template) -> bool:
    """Shipped templates are visible to every signed-in principal; a project's to its members."""
    if template.project_id is None:
        return bool(getattr(user, "is_authenticated", False))
    return can_view_project(user, template.project_id)


def can_edit_templates(user, project) -> bool:
    """Create, edit and publish a project's templates: its admins."""
    return is_person(user) and can_admin_project(user, project)
