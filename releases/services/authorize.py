"""Who may do what to a release: the one check every release service and page makes first."""

from __future__ import annotations

from collections.abc import Callable

from projects.choices import Role, TokenScope
from projects.permissions import can_deploy, can_manage_release, role_refusal
from projects.principals import Actor
from releases.models import Release

# What each action on a release needs: the predicate, the roles it names in the refusal
# (``role_refusal``), what the person tried, and the scope a token needs. Services check it
# first; views call ``release_authorize`` before reading a form, so someone without the
# right is refused (403 ``role_not_held``) whatever they send, never shown a form error.
_DEPLOYERS = (Role.RELEASE_MANAGER, Role.ENGINEER, Role.ADMIN)
_MANAGERS = (Role.RELEASE_MANAGER, Role.ADMIN)
_RIGHTS: dict[str, tuple[Callable[..., bool], tuple[Role, ...], str, TokenScope]] = {
    "edit": (can_manage_release, _MANAGERS, "edit this release", TokenScope.RELEASES),
    "cancel": (can_manage_release, _MANAGERS, "cancel this release", TokenScope.RELEASES),
    "deploy": (can_deploy, _DEPLOYERS, "deploy this release", TokenScope.DEPLOYMENTS),
    "finish": (
        can_deploy,
        _DEPLOYERS,
        "record how a deployment of this release ended",
        TokenScope.DEPLOYMENTS,
    ),
    "rollback": (
        can_deploy,
        _DEPLOYERS,
        "roll back a deployment of this release",
        TokenScope.DEPLOYMENTS,
    ),
    "scope": (
        can_manage_release,
        _MANAGERS,
        "change the scope of this release",
        TokenScope.RELEASES,
    ),
    "commits": (
        can_manage_release,
        _MANAGERS,
        "attach commits to this release",
        TokenScope.RELEASES,
    ),
}


def release_authorize(*, release: Release, actor: Actor, action: str) -> None:
    """Raise PermissionDenied unless ``actor`` may do ``action`` (a key of _RIGHTS) to ``release``.

    ``actor=None`` is Shipcheck itself, which may do anything.
    """
    allowed, roles, doing, scope = _RIGHTS[action]
    if actor is not None and not allowed(actor, release):
        raise role_refusal(*roles, to=doing, token_scope=scope)
