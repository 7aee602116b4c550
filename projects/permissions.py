"""Who may do what, in one place.

Pages, API views and services all call these predicates. ``user`` may be a
person, an API token principal or an anonymous user.
"""

from __future__ import annotations

from core.exceptions import RoleNotHeld
from projects.choices import Role, TokenScope
from projects.principals import is_token

_CACHE_ATTR = "_shipcheck_roles"

# What an auditor is told when they try to change something.
READ_ONLY_REFUSAL = "You hold only the auditor role in this project: you may read everything in it and change nothing."


# How the holder of each role reads in a sentence, with its article.
ROLE_HOLDERS: dict[str, str] = {
    Role.RELEASE_MANAGER: "a release manager",
    Role.ENGINEER: "an engineer",
    Role.QA: "a QA engineer",
    Role.PRODUCT_OWNER: "a product owner",
    Role.APPROVER: "an approver",
    Role.EMERGENCY_APPROVER: "an emergency approver",
    Role.AUDITOR: "an auditor",
    Role.ADMIN: "a project admin",
}


def a_or_an(noun: str) -> str:
    """``noun`` with its indefinite article, by its first letter: "an engineer", "a QA sign-off"."""
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def _either(phrases: list[str]) -> str:
    if len(phrases) <= 1:
        return "".join(phrases)
    return ", ".join(phrases[:-1]) + " or " + phrases[-1]


def role_refusal(
    *roles: str,
    to: str,
    release_manager_of_release: bool = False,
    token_scope: str | None = None,
    error: type[RoleNotHeld] = RoleNotHeld,
) -> RoleNotHeld:
    """The refusal (403 ``role_not_held``) for someone who holds none of ``roles``.

    One sentence for every app: "Only an engineer or a project admin may deploy
    this release." ``to`` is what they tried, as it follows "may".
    ``release_manager_of_release`` adds the release's own manager, who may do it
    whatever roles they hold (left out when release managers are named anyway);
    ``token_scope`` says which scope an API token would need. ``error`` is a
    subclass when an app keeps its own (approvals audits its refusals).
    """
    phrases = [
        ROLE_HOLDERS.get(role, f"a holder of the {role} role") for role in dict.fromkeys(roles)
    ]
    if release_manager_of_release and Role.RELEASE_MANAGER not in roles:
        phrases.append("the release's manager")
    message = f"Only {_either(phrases) or 'nobody yet'} may {to}"
    if token_scope:
        message += f" (an API token needs the '{token_scope}' scope)"
    return error(message + ".", details={"roles": list(dict.fromkeys(roles))})


def roles_for(user, project) -> frozenset[str]:
    """The roles ``user`` holds in ``project`` (cached on the user object for the request)."""
    if user is None or not getattr(user, "is_authenticated", False) or is_token(user):
        return frozenset()
    project_id = getattr(project, "pk", project)
    cache = getattr(user, _CACHE_ATTR, None)
    if cache is None:
        from projects.models import Membership

        cache = {}
        for pid, role in Membership.objects.filter(user=user).values_list("project_id", "role"):
            cache.setdefault(pid, set()).add(role)
        cache = {pid: frozenset(roles) for pid, roles in cache.items()}
        setattr(user, _CACHE_ATTR, cache)
    return cache.get(project_id, frozenset())


def forget_roles(user) -> None:
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def has_role(user, project, *roles: str) -> bool:
    return bool(roles_for(user, project) & set(roles))


def can_view_project(user, project) -> bool:
    if is_token(user):
        return user.api_token.project_id == getattr(project, "pk", project) and user.has_scope(
            TokenScope.READ
        )
    return bool(roles_for(user, project))


def holds_writing_role(user, project) -> bool:
    """A member holding any role but auditor. An auditor reads everything and changes nothing:
    views ask (through each app's ``*_authorize`` service) before reading a form, so an
    auditor's write is refused with 403 whatever its body says."""
    return bool(roles_for(user, project) - {Role.AUDITOR})


def is_staff_admin(user) -> bool:
    """A Django staff administrator: above every project, may create and manage any of them."""
    return (
        not is_token(user)
        and bool(getattr(user, "is_authenticated", False))
        and bool(getattr(user, "is_active", False))
        and bool(getattr(user, "is_staff", False))
    )


def can_admin_project(user, project) -> bool:
    """Manage a project (environments, people, tokens): its project admins, and staff."""
    if is_staff_admin(user):
        return True
    return has_role(user, project, Role.ADMIN)


def can_create_release(user, project) -> bool:
    if is_token(user):
        return user.api_token.project_id == getattr(project, "pk", project) and user.has_scope(
            TokenScope.RELEASES
        )
    return has_role(user, project, Role.RELEASE_MANAGER, Role.ENGINEER, Role.ADMIN)


def release_creation_refusal() -> RoleNotHeld:
    """Why someone may not create releases in a project: asked by the pages, the API and CI."""
    return role_refusal(
        Role.RELEASE_MANAGER,
        Role.ENGINEER,
        Role.ADMIN,
        to="create releases in this project",
        token_scope=TokenScope.RELEASES,
    )


def can_manage_release(user, release) -> bool:
    """Edit, cancel and steer a release: its release manager, any release manager, or an admin."""
    if is_token(user):
        return user.api_token.project_id == release.project_id and user.has_scope(
            TokenScope.RELEASES
        )
    if getattr(user, "pk", None) is not None and release.release_manager_id == user.pk:
        return holds_writing_role(user, release.project_id)
    return has_role(user, release.project_id, Role.RELEASE_MANAGER, Role.ADMIN)


def can_deploy(user, release) -> bool:
    """Promote a release and record deployments."""
    if is_token(user):
        return user.api_token.project_id == release.project_id and user.has_scope(
            TokenScope.DEPLOYMENTS
        )
    return has_role(user, release.project_id, Role.RELEASE_MANAGER, Role.ENGINEER, Role.ADMIN)


def is_person(user) -> bool:
    """Approvals, sign-offs and votes are for people only, never for tokens."""
    return getattr(user, "is_authenticated", False) and not is_token(user)
