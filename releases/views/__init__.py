"""Release pages: dashboard, list, environments, release page with its actions, create and edit.

Views parse input, call one selector or service and render. One view serves
the page or, for htmx, the fragment it swaps. Missing and forbidden releases
answer 404 (``NotFound`` from the selectors, mapped by ``core.middleware``);
a person who may look but not act gets 403 from the services.

``dashboard`` (with the live grid), ``lists``, ``environments``, ``detail``
(the release page and the apps' panels), ``actions`` (promote, finish, roll
back, cancel), ``scope`` (tickets and commits) and ``edit`` (create and edit); ``releases/urls.py`` and
``config/urls.py`` import the views from here.
"""

from releases.views.actions import (
    deployment_finish_view,
    deployment_rollback_view,
    release_cancel_view,
    release_promote_view,
)
from releases.views.common import RELEASE_CHANGED_EVENT
from releases.views.dashboard import (
    ATTENTION_HORIZON,
    DASHBOARD_WAITING_ROWS,
    URGENT_SCAN_LIMIT,
    dashboard,
)
from releases.views.detail import release_detail
from releases.views.edit import release_create_view, release_edit_view
from releases.views.environments import environments_view
from releases.views.lists import PAGE_SIZE, release_list_view
from releases.views.scope import (
    commit_add_view,
    commit_remove_view,
    ticket_add_view,
    ticket_remove_view,
)

__all__ = [
    "ATTENTION_HORIZON",
    "DASHBOARD_WAITING_ROWS",
    "PAGE_SIZE",
    "RELEASE_CHANGED_EVENT",
    "URGENT_SCAN_LIMIT",
    "commit_add_view",
    "commit_remove_view",
    "dashboard",
    "deployment_finish_view",
    "deployment_rollback_view",
    "environments_view",
    "release_cancel_view",
    "release_create_view",
    "release_detail",
    "release_edit_view",
    "release_list_view",
    "release_promote_view",
    "ticket_add_view",
    "ticket_remove_view",
]
