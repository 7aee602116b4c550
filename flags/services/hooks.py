"""A plan's rollback hook: recorded once when a step fails, sent once with an idempotency key."""

from __future__ import annotations

import json

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from flags.choices import HookStatus
from flags.models import PlanHookCall
from monitoring import fetch

HOOK_TIMEOUT_SECONDS = 10.0


def plan_hook_send(*, call_id: int) -> PlanHookCall | None:
    """Send one pending hook call. Safe to run twice: the conditional UPDATE lets one sender through.

    Audit: ``flags.hook_called`` with the answer.
    """
    claimed = PlanHookCall.objects.filter(pk=call_id, status=HookStatus.PENDING).update(
        status=HookStatus.SENDING
    )
    if not claimed:
        return PlanHookCall.objects.filter(pk=call_id).first()
    call = PlanHookCall.objects.select_related("plan__release__project", "plan__environment").get(
        pk=call_id
    )
    plan = call.plan
    headers = {"Content-Type": "application/json", "Idempotency-Key": call.idempotency_key}
    if plan.rollback_hook_secret:
        headers["Authorization"] = f"Bearer {plan.rollback_hook_secret}"
    body = json.dumps(
        {
            "event": "flag_rollback",
            "idempotency_key": call.idempotency_key,
            "project": plan.release.project.slug,
            "release": plan.release.version,
            "environment": plan.environment.name,
            "flag": plan.flag_key,
            "percent": plan.current_percent,
            "reason": call.reason,
        }
    ).encode()
    result = fetch.fetch(
        call.url, method="POST", headers=headers, content=body, timeout=HOOK_TIMEOUT_SECONDS
    )
    accepted = result.status_code is not None and 200 <= result.status_code < 300
    with transaction.atomic():
        call = PlanHookCall.objects.select_for_update().get(pk=call_id)
        call.status = HookStatus.SUCCEEDED if accepted else HookStatus.FAILED
        call.response_status = result.status_code
        call.error = (
            "" if accepted else (result.error or f"The hook answered HTTP {result.status_code}.")
        )[:300]
        call.finished_at = timezone.now()
        call.save()
        audit_record(
            actor=None,
            action="flags.hook_called",
            obj=call,
            project=plan.release.project_id,
            release=plan.release,
            from_state=HookStatus.SENDING,
            to_state=call.status,
            reason=call.error,
            data={"url": call.url, "http_status": result.status_code, "plan": plan.pk},
        )
    return call
