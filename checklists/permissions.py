"""Who may do what with checklists. Pages, API and services ask these same questions.

Ticking is for people: an API token can read a checklist but never tick it.
"""

from __future__ import annotations

from checklists.choices import ItemStatus
from core.exceptions import PeopleOnly, RoleNotHeld
from projects.choices import Role
from projects.permissions import (
    can_admin_project,
    can_manage_release,
    can_view_project,
    holds_writing_role,
    is_person,
    role_refusal,
    roles_for,
)

# --- Refusals: the sentence a person reads when a predicate below says no -----------------


def people_only_refusal(doing: str) -> PeopleOnly:
    return PeopleOnly(
        f"Only people may {doing}; API tokens can read checklists but not change them."
    )


def manager_refusal(what: str) -> RoleNotHeld:
    """For ``can_manage_checklist``: release managers, admins and the release's own manager."""
    return role_refusal(Role.RELEASE_MANAGER, Role.ADMIN, to=what)


def tick_refusal(item) -> RoleNotHeld:
    """For ``can_tick_item``: the item's role, or the release's own manager."""
    return role_refusal(item.role, to=f"tick '{item.text}'", release_manager_of_release=True)


def untick_refusal(item) -> RoleNotHeld:
    """For ``can_untick_item``."""
    if item.status == ItemStatus.NOT_APPLICABLE:
        return manager_refusal(f"restore '{item.text}'")
    return role_refusal(item.role, to=f"reopen '{item.text}'", release_manager_of_release=True)


def step_output_refusal(step_roles) -> RoleNotHeld:
    """For ``can_record_step_output``: the roles owning the step's items, or the managers."""
    return role_refusal(
        *sorted(step_roles),
        Role.RELEASE_MANAGER,
        Role.ADMIN,
        to="record this step's output",
        release_manager_of_release=True,
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
