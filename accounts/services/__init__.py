"""Every write of the accounts app, by concern.

``invitations`` (invite, resend, revoke, accept), ``people`` (deactivate, reactivate, end a
session), ``groups`` (provider groups mapped to roles and their sync at sign-in),
``security`` (a project's sign-in rules) and ``profiles`` (a person's own time zone).
The public names stay importable from ``accounts.services``.
"""

from accounts.services.groups import group_mapping_add, group_mapping_remove, provider_groups_sync
from accounts.services.invitations import (
    EMAIL_MAX,
    UNKNOWN_LINK_MESSAGE,
    UNUSABLE_MESSAGES,
    invitation_accept,
    invitation_check,
    invitation_create,
    invitation_link,
    invitation_resend,
    invitation_revoke,
)
from accounts.services.people import session_end, user_deactivate, user_reactivate
from accounts.services.profiles import profile_time_zone_set
from accounts.services.security import project_security_update

__all__ = [
    "EMAIL_MAX",
    "UNKNOWN_LINK_MESSAGE",
    "UNUSABLE_MESSAGES",
    "group_mapping_add",
    "group_mapping_remove",
    "invitation_accept",
    "invitation_check",
    "invitation_create",
    "invitation_link",
    "invitation_resend",
    "invitation_revoke",
    "profile_time_zone_set",
    "project_security_update",
    "provider_groups_sync",
    "session_end",
    "user_deactivate",
    "user_reactivate",
]
