"""Every write to releases and deployments, split by subject (see each module's docstring).

Each service: checks permission and rule, locks what it changes, writes the
audit event in the same transaction, lets registered listeners react inside
it (``releases.registry``), and leaves side effects to ``on_commit``.

``authorize``: who may do what (``release_authorize``); ``lifecycle``: create,
edit, cancel, mark released; ``deployments``: promote, finish, roll back;
``scope``: tickets and commits. Import them from here.
"""

from releases.services.authorize import release_authorize
from releases.services.deployments import deployment_finish, deployment_rollback, release_promote
from releases.services.lifecycle import (
    ARTIFACT_FIELDS,
    EDITABLE_FIELDS,
    release_cancel,
    release_create,
    release_mark_released,
    release_update,
)
from releases.services.scope import (
    release_commits_add,
    release_commits_remove,
    release_tickets_add,
    release_tickets_remove,
)

__all__ = [
    "ARTIFACT_FIELDS",
    "EDITABLE_FIELDS",
    "deployment_finish",
    "deployment_rollback",
    "release_authorize",
    "release_cancel",
    "release_commits_add",
    "release_commits_remove",
    "release_create",
    "release_mark_released",
    "release_promote",
    "release_tickets_add",
    "release_tickets_remove",
    "release_update",
]
