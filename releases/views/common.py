"""What the release pages share: telling an htmx swap from a full page."""

from __future__ import annotations

from django.http import HttpRequest

# Send this event (``HX-Trigger: releaseChanged``) from a panel's htmx answer when the
# panel changed something the rest of the release page shows: the page region reloads.
# The release page's own actions (``releases.views.actions``) re-render that region
# themselves, so they do not send it.
RELEASE_CHANGED_EVENT = "releaseChanged"


def is_fragment(request: HttpRequest) -> bool:
    """An htmx request that swaps part of the page (not a history restore, which needs it all)."""
    htmx = getattr(request, "htmx", None)
    return htmx is not None and bool(htmx) and not htmx.history_restore_request
