"""Where an audit event's object lives in the browser.

Resolvers are registered by object type, here for the apps' pages (compliance
sits on top, so it names every app's URLs; no app imports it)::

    object_link("approvals.approval", lambda object_id, event: reverse(...))

Resolvers only reverse URLs (no queries), so a page of events stays a
constant number of queries. Without a resolver the event links to its
release, or to its project.
"""

from __future__ import annotations

from collections.abc import Callable

from django.urls import NoReverseMatch, reverse

_resolvers: dict[str, Callable] = {}


def object_link(object_type: str, resolver: Callable) -> None:
    _resolvers[object_type] = resolver


def _reverse(name: str, *args) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _release(object_id, event):
    return _reverse("releases:detail", int(object_id)) if str(object_id).isdigit() else None


def _by_id(url_name: str):
    def resolve(object_id, event):
        return _reverse(url_name, int(object_id)) if str(object_id).isdigit() else None

    return resolve


def _checklist_of_release(object_id, event):
    return _reverse("checklists:release", event.release_id) if event.release_id else None


object_link("releases.release", _release)
# Other apps' pages, as far as a URL name and the object's id reach (no queries).
object_link("approvals.gonogomeeting", _by_id("approvals:meeting"))
object_link("monitoring.monitoringwindow", _by_id("monitoring:window"))
object_link("checklists.checklisttemplate", _by_id("checklists:template_detail"))
object_link("checklists.checklist", _checklist_of_release)
object_link("checklists.item", _checklist_of_release)
object_link("checklists.step", _checklist_of_release)


def event_object_url(event, project_slugs: dict[int, str] | None = None) -> str | None:
    """The page of the event's object, or of its release or project; None when there is none."""
    resolver = _resolvers.get(event.object_type)
    if resolver is not None:
        try:
            url = resolver(event.object_id, event)
        except (NoReverseMatch, ValueError, TypeError):
            url = None
        if url:
            return url
    if event.release_id:
        return _reverse("releases:detail", event.release_id)
    if event.project_id and project_slugs and event.project_id in project_slugs:
        return _reverse("projects:detail", project_slugs[event.project_id])
    return None
