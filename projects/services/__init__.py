"""Every write of the projects app, by concern.

``projects`` (create, update, archive), ``environments`` (the promotion order),
``memberships`` (roles), ``tokens`` (API tokens) and ``first_run`` (the first administrator).
The public names stay importable from ``projects.services`` (``configfile`` looks services
up on this module by name).
"""

from projects.services._common import (
    ENV_DISPLAY_MAX,
    ENV_NAME_MAX,
    PROJECT_NAME_MAX,
    PROJECT_SLUG_MAX,
    REASON_MAX,
    RESERVED_SLUGS,
    SLUG_RE,
)
from projects.services.environments import (
    environment_create,
    environment_reorder,
    environment_retire,
    environment_update,
)
from projects.services.first_run import first_admin_create
from projects.services.memberships import membership_grant, membership_revoke
from projects.services.projects import project_archive, project_create, project_update
from projects.services.tokens import api_token_create, api_token_revoke

__all__ = [
    "ENV_DISPLAY_MAX",
    "ENV_NAME_MAX",
    "PROJECT_NAME_MAX",
    "PROJECT_SLUG_MAX",
    "REASON_MAX",
    "RESERVED_SLUGS",
    "SLUG_RE",
    "api_token_create",
    "api_token_revoke",
    "environment_create",
    "environment_reorder",
    "environment_retire",
    "environment_update",
    "first_admin_create",
    "membership_grant",
    "membership_revoke",
    "project_archive",
    "project_create",
    "project_update",
]
