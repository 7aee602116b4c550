"""Monitoring's urgent items (the banner) and its rows of *Waiting for me*: windows for a person."""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse
from django.utils.text import Truncator

from monitoring.choices import WINDOW_WAITING_STATES, RolloutState, WindowStatus
from monitoring.models import MonitoringWindow
from monitoring.permissions import can_decide_window
from projects.selectors import project_list
from releases.choices import DEPLOYMENT_ACTIVE_STATES, DeploymentStatus
from releases.registry import Urgent, UrgentAction, Waiting, urgent_source, waiting_source


def _what(window: MonitoringWindow) -> str:
    kind = "canary" if window.kind == "canary" else "post-deploy window"
    return f"The {kind} of {window.deployment.release.version} in {window.deployment.environment}"


@urgent_source(order=10)
def window_urgent(*, user, releases) -> list[Urgent]:
    """One query for any number of releases."""
    by_id = {r.pk: r for r in releases}
    windows = (
        MonitoringWindow.objects.filter(deployment__release_id__in=list(by_id))
        .filter(
            Q(status__in=[WindowStatus.FAILED, *WINDOW_WAITING_STATES])
            | Q(status=WindowStatus.PASSED, rollout_state=RolloutState.AWAITING_PROMOTION)
        )
        .select_related("deployment__environment")
        .order_by("-started_at", "-id")
    )
    items = []
    for window in windows:
        deployment = window.deployment
        release = by_id[deployment.release_id]
        deployment.release = release
        env = deployment.environment
        decide = can_decide_window(user, release)
        open_window = UrgentAction("Open the window", window.get_absolute_url())
        decide_url = reverse("monitoring:window-decide", args=[window.pk])
        reason = Truncator(window.reason).chars(240)
        if window.status == WindowStatus.FAILED:
            if deployment.status != DeploymentStatus.FAILED:
                continue  # already rolled back, or redeployed over
            actions = [open_window]
            if decide:
                actions.insert(
                    0,
                    UrgentAction(
                        f"Roll back {env}",
                        reverse("releases:deployment-rollback", args=[release.pk, deployment.pk]),
                        method="post",
                        style="danger",
                        ask_reason=f"What was rolled back in {env}?",
                    ),
                )
            items.append(
                Urgent(
                    release=release,
                    title=f"Rollback recommended: {_what(window)} failed.",
                    detail=reason,
                    actions=tuple(actions),
                    deployment_id=deployment.pk,
                )
            )
        elif window.status in WINDOW_WAITING_STATES:
            actions = (
                [
                    UrgentAction(
                        "Decide: accept, extend or roll back",
                        window.get_absolute_url() + "#window-actions",
                        style="primary",
                    )
                ]
                if decide
                else [open_window]
            )
            items.append(
                Urgent(
                    release=release,
                    title=f"{_what(window)} needs a decision.",
                    detail=reason or "The checks gave no clear verdict: a person decides.",
                    actions=tuple(actions),
                    tone="warning",
                    deployment_id=deployment.pk,
                    waits_for_decision=True,
                )
            )
        elif deployment.status in DEPLOYMENT_ACTIVE_STATES:
            actions = [open_window]
            if decide:
                actions.insert(
                    0,
                    UrgentAction(
                        "Proceed to full rollout",
                        decide_url,
                        method="post",
                        fields=(("action", "promote"),),
                        style="primary",
                    ),
                )
            items.append(
                Urgent(
                    release=release,
                    title=f"{_what(window)} passed and waits for a person.",
                    detail=f"{env} asks for a person before the full rollout.",
                    actions=tuple(actions),
                    tone="warning",
                    deployment_id=deployment.pk,
                    waits_for_decision=True,
                )
            )
    return items


@waiting_source
def windows_waiting(*, user) -> list[Waiting]:
    """Canaries and windows that wait for this person's decision. One query."""
    windows = (
        MonitoringWindow.objects.filter(deployment__release__project__in=project_list(user=user))
        .filter(
            Q(status__in=list(WINDOW_WAITING_STATES))
            | Q(
                status=WindowStatus.PASSED,
                rollout_state=RolloutState.AWAITING_PROMOTION,
                deployment__status__in=list(DEPLOYMENT_ACTIVE_STATES),
            )
        )
        .select_related("deployment__environment", "deployment__release__project")
        .order_by("started_at", "id")
    )
    items = []
    for window in windows:
        release = window.deployment.release
        if not can_decide_window(user, release):
            continue
        env = window.deployment.environment
        kind = "canary" if window.kind == "canary" else "post-deploy window"
        if window.status == WindowStatus.PASSED:
            title = f"Proceed with the full rollout in {env}?"
            detail = f"The canary passed; {env} waits for a person before the full rollout."
        else:
            title = f"Decide on the {kind} in {env}"
            detail = Truncator(window.reason).chars(200) or "The checks gave no clear verdict."
        items.append(
            Waiting(
                "window",
                release,
                title,
                detail,
                window.get_absolute_url(),
                since=window.finished_at or window.started_at,
                urgent=True,
            )
        )
    return items
