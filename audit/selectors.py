from __future__ import annotations

from collections.abc import Iterator

from audit.chain import Break, verify_events
from audit.models import AuditEvent


def audit_event_dicts(*, batch_size: int = 5000) -> Iterator[dict]:
    """Every event in sequence order, as the dicts the hash is computed over."""
    last = 0
    while True:
        batch = list(AuditEvent.objects.filter(seq__gt=last).order_by("seq")[:batch_size])
        if not batch:
            return
        for event in batch:
            fields = event.hashed_fields()
            fields["hash"] = event.hash
            yield fields
        last = batch[-1].seq


def audit_chain_verify() -> tuple[int, Break | None]:
    return verify_events(audit_event_dicts())


def audit_events_for_object(obj, *, limit: int = 50):
    return AuditEvent.objects.filter(
        object_type=obj._meta.label_lower, object_id=str(obj.pk)
    ).order_by("-seq")[:limit]
