"""What the incidents app registers with the lower apps (from ``IncidentsConfig.ready``).

- a listener on deployments: a production rollback, and an emergency release reaching
  production, each open the post-mortem they require;
- an urgent source: a failed production monitoring window without an incident offers to
  open one pre-filled; an overdue post-mortem of a release;
- a waiting source: the reader's overdue action items and overdue post-mortems they wrote;
- the release page's "Incidents" panel.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from incidents.choices import IncidentState
from incidents.models import Incident, IncidentDetails, PostMortem, ReleaseClosure
from incidents.permissions import can_close_release, can_respond
from incidents.selectors import overdue_postmortems, visible_project_ids
from releases.choices import DeploymentStatus
from releases.models import Deployment, Release
from releases.registry import Urgent, UrgentAction, Waiting


def on_deployment_changed(
    *, deployment: Deployment, actor: Any, from_status: str, to_status: str
) -> None:
    """Open the post-mortem a production rollback or an emergency release requires."""
    from incidents.services import postmortem_for_emergency, postmortem_for_rollback

    if not deployment.environment.is_production:
        return
    if to_status == DeploymentStatus.ROLLED_BACK:
        postmortem_for_rollback(actor=None, deployment=deployment)
    release = deployment.release
    if release.is_emergency and to_status == DeploymentStatus.SUCCEEDED:
        from approvals.models import EmergencyReview

        review = EmergencyReview.objects.filter(release=release).first()
        postmortem_for_emergency(actor=None, release=release, review=review)


def open_url_for_window(window: Any) -> str:
    deployment = window.deployment
    release = deployment.release
    query = {
        "project": release.project_id,
        "window": window.pk,
        "title": f"{release.version} failed its {window.get_kind_display().lower()} in "
        f"{deployment.environment}"[:200],
    }
    return reverse("incidents:open") + "?" + urlencode(query)


def incidents_urgent(*, user: Any, releases: list[Release]) -> list[Urgent]:
    """Failed production windows without an incident; overdue post-mortems. Three queries."""
    from monitoring.choices import WindowStatus
    from monitoring.models import MonitoringWindow

    by_id = {r.pk: r for r in releases}
    items: list[Urgent] = []
    windows = (
        MonitoringWindow.objects.filter(
            deployment__release_id__in=list(by_id),
            deployment__environment__tier="production",
            status=WindowStatus.FAILED,
        )
        .exclude(
            pk__in=IncidentDetails.objects.filter(monitoring_window__isnull=False).values(
                "monitoring_window_id"
            )
        )
        .select_related("deployment__environment")
        .order_by("-started_at", "-id")
    )
    for window in windows:
        release = by_id[window.deployment.release_id]
        window.deployment.release = release
        if not can_respond(user, release.project_id):
            continue
        items.append(
            Urgent(
                release=release,
                title=f"Open an incident? {release.version} failed its "
                f"{window.get_kind_display().lower()} in {window.deployment.environment}.",
                detail="Shipcheck fills in the start, the environment and the deployment as "
                "the suspected cause.",
                actions=(
                    UrgentAction("Open an incident", open_url_for_window(window), style="danger"),
                ),
            )
        )
    for postmortem in overdue_postmortems(project_ids=[r.project_id for r in releases]).filter(
        release_id__in=list(by_id)
    ):
        release = by_id[postmortem.release_id]  # type: ignore[index]
        items.append(
            Urgent(
                release=release,
                title=f"Post-mortem overdue: {postmortem.title}",
                detail=f"It was due on {postmortem.due_on}; the release cannot be closed "
                "until it is reviewed.",
                actions=(
                    UrgentAction(
                        "Open the post-mortem",
                        reverse("incidents:postmortem", args=[postmortem.pk]),
                    ),
                ),
                tone="warning",
            )
        )
    return items


def incidents_waiting(*, user: Any) -> list[Waiting]:
    """The reader's overdue action items, and overdue post-mortems in their projects. Two queries."""
    from incidents.models import ActionItem

    today = timezone.localdate()
    items: list[Waiting] = []
    for item in (
        ActionItem.objects.filter(owner=user, done_at__isnull=True, due_on__lt=today)
        .select_related("postmortem__release", "postmortem__project")
        .order_by("due_on")
    ):
        release = item.postmortem.release
        if release is None:
            continue
        items.append(
            Waiting(
                "action_item",
                release,
                f"Action item overdue: {item.title}",
                f"Due on {item.due_on} ({item.postmortem.title}).",
                reverse("incidents:postmortem", args=[item.postmortem_id]),
                urgent=True,
            )
        )
    for postmortem in overdue_postmortems(project_ids=visible_project_ids(user)).filter(
        created_by=user
    ):
        if postmortem.release is None:
            continue
        items.append(
            Waiting(
                "postmortem",
                postmortem.release,
                f"Post-mortem overdue: {postmortem.title}",
                f"Due on {postmortem.due_on}.",
                reverse("incidents:postmortem", args=[postmortem.pk]),
            )
        )
    return items


def release_panel_context(release: Release, request: Any) -> dict[str, Any]:
    """The release page's incidents section. Four queries."""
    from incidents.services import release_close_blockers

    incidents = list(
        Incident.objects.filter(cause_release=release).select_related("details__commander")
    )
    hotfix_for = list(
        Incident.objects.filter(details__hotfix_release=release).only("pk", "title", "severity")
    )
    postmortems = list(PostMortem.objects.filter(release=release).order_by("created_at"))
    closure = ReleaseClosure.objects.filter(release=release).select_related("closed_by").first()
    user = request.user
    return {
        "incidents": incidents,
        "open_incidents": [i for i in incidents if i.state != IncidentState.RESOLVED],
        "hotfix_for": hotfix_for,
        "postmortems": postmortems,
        "closure": closure,
        "can_respond": can_respond(user, release.project_id),
        "can_close": can_close_release(user, release) and closure is None,
        "blockers": release_close_blockers(release=release) if closure is None else [],
    }
