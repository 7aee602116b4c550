"""The rollback webhook: requested once per deployment, sent once, with an idempotency key.

``hook_call_request`` runs inside the transaction that fails the window and
inserts the one ``HookCall`` row a deployment may have (a unique constraint
on deployment + purpose), then queues the send after commit.
``hook_call_send`` claims the row with a conditional UPDATE (pending →
sending), so however many tasks or ticks try, one POST goes out. It carries
``Idempotency-Key`` so a receiver that sees a retry of the network layer can
tell. A hook that answers 2xx has rolled back: the deployment is recorded as
rolled back. Any other answer is recorded and people are told to roll back by hand.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from audit.services import audit_record
from core.notifications import notification_send
from core.oncommit import after_commit
from monitoring import fetch
from monitoring.choices import HookCallStatus
from monitoring.models import HookCall, MonitoringWindow
from monitoring.services.config import policy_for
from releases.choices import DeploymentStatus
from releases.models import Deployment

logger = logging.getLogger(__name__)

HOOK_TIMEOUT_SECONDS = 10.0
PURPOSE_ROLLBACK = "rollback"


def hook_call_request(
    *, deployment: Deployment, window: MonitoringWindow | None, actor: Any, reason: str
) -> HookCall | None:
    """Record the rollback call for ``deployment`` (once) and send it after commit.

    Returns None when the environment has no rollback hook. Audit: ``monitoring.hook_requested``.
    """
    policy = policy_for(deployment.environment)
    if not policy.rollback_hook_url:
        return None
    existing = HookCall.objects.filter(deployment=deployment, purpose=PURPOSE_ROLLBACK).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            call = HookCall.objects.create(
                deployment=deployment,
                window=window,
                purpose=PURPOSE_ROLLBACK,
                idempotency_key=f"shipcheck-rollback-{uuid.uuid4().hex}",
                url=policy.rollback_hook_url,
                reason=reason[:2000],
            )
    except IntegrityError:
        return HookCall.objects.get(deployment=deployment, purpose=PURPOSE_ROLLBACK)
    audit_record(
        actor=actor,
        action="monitoring.hook_requested",
        obj=call,
        project=deployment.release.project_id,
        release=deployment.release,
        to_state=call.status,
        data={
            "url": call.url,
            "idempotency_key": call.idempotency_key,
            "deployment": deployment.pk,
        },
    )
    from monitoring.tasks import hook_send

    call_id = call.pk
    after_commit(hook_send.delay, call_id)
    return call


def _payload(call: HookCall) -> bytes:
    deployment = call.deployment
    release = deployment.release
    window = call.window
    return json.dumps(
        {
            "event": "rollback",
            "idempotency_key": call.idempotency_key,
            "project": release.project.slug,
            "release": release.version,
            "environment": deployment.environment.name,
            "deployment": {
                "id": deployment.pk,
                "artifact_version": deployment.artifact_version,
                "commit_sha": deployment.commit_sha,
            },
            "window": {"id": window.pk, "kind": window.kind, "status": window.status}
            if window
            else None,
            "reason": call.reason,
        }
    ).encode()


def hook_call_send(*, call_id: int) -> HookCall | None:
    """Send one pending hook call. Safe to run twice: only the claim's winner sends."""
    now = timezone.now()
    claimed = HookCall.objects.filter(pk=call_id, status=HookCallStatus.PENDING).update(
        status=HookCallStatus.SENDING, attempts=F("attempts") + 1, sent_at=now
    )
    if not claimed:
        return HookCall.objects.filter(pk=call_id).first()
    call = HookCall.objects.select_related(
        "deployment__release__project", "deployment__environment", "window"
    ).get(pk=call_id)
    policy = policy_for(call.deployment.environment)
    headers = {"Content-Type": "application/json", "Idempotency-Key": call.idempotency_key}
    if policy.rollback_hook_secret:
        headers["Authorization"] = f"Bearer {policy.rollback_hook_secret}"
    result = fetch.fetch(
        call.url,
        method="POST",
        headers=headers,
        content=_payload(call),
        timeout=HOOK_TIMEOUT_SECONDS,
        max_bytes=64 * 1024,
    )
    accepted = (
        result.status_code is not None and 200 <= result.status_code < 300 and not result.error
    )
    _hook_call_finish(call_id=call_id, accepted=accepted, result=result)
    return HookCall.objects.get(pk=call_id)


@transaction.atomic
def _hook_call_finish(*, call_id: int, accepted: bool, result: fetch.FetchResult) -> None:
    from releases.services import deployment_rollback

    call = (
        HookCall.objects.select_for_update(of=("self",))
        .select_related("deployment__release__project", "deployment__environment")
        .get(pk=call_id)
    )
    call.status = HookCallStatus.SUCCEEDED if accepted else HookCallStatus.FAILED
    call.response_status = result.status_code
    call.error = (
        "" if accepted else (result.error or f"The hook answered HTTP {result.status_code}.")[:300]
    )
    call.finished_at = timezone.now()
    call.save()
    deployment = call.deployment
    release = deployment.release
    audit_record(
        actor=None,
        action="monitoring.hook_called",
        obj=call,
        project=release.project_id,
        release=release,
        from_state=HookCallStatus.SENDING,
        to_state=call.status,
        reason=call.error,
        data={
            "url": call.url,
            "http_status": result.status_code,
            "idempotency_key": call.idempotency_key,
        },
    )
    window = call.window
    url = window.get_absolute_url() if window is not None else release.get_absolute_url()
    if accepted:
        if deployment.status in (DeploymentStatus.FAILED, DeploymentStatus.SUCCEEDED):
            deployment_rollback(
                deployment=deployment,
                actor=None,
                reason=f"The rollback hook accepted the rollback (HTTP {result.status_code}).",
            )
        notification_send(
            recipients=[release.release_manager],
            project=release.project,
            url=url,
            subject=f"Rolled back: {release.version} in {deployment.environment}",
            body="The rollback hook accepted the rollback.",
        )
    else:
        notification_send(
            recipients=[release.release_manager],
            project=release.project,
            url=url,
            urgent=True,
            subject=f"Rollback hook failed: {release.version} in {deployment.environment}",
            body=f"{call.error} Roll back by hand and record it in Shipcheck.",
        )
