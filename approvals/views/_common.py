"""What the approvals pages share: htmx fragments, fixable errors, the environment in a form."""

from __future__ import annotations

from core.exceptions import DomainError, NotFound, PermissionDenied
from projects.models import Environment

# The release page refreshes itself when an action sends this event (releases/views.py).
RELEASE_CHANGED_EVENT = "releaseChanged"


def is_fragment(request) -> bool:
    htmx = getattr(request, "htmx", None)
    return htmx is not None and bool(htmx) and not htmx.history_restore_request


def fixable(exc: DomainError) -> bool:
    """Errors shown in the page; NotFound and PermissionDenied are real 404/403 answers."""
    return not isinstance(exc, NotFound | PermissionDenied)


def form_environment(release, pk) -> Environment | None:
    """The environment a form names, of the release's project (404 otherwise); None if none."""
    if pk is None:
        return None
    environment = Environment.objects.filter(project_id=release.project_id, pk=pk).first()
    if environment is None:
        raise NotFound("No such environment in this project.")
    return environment
