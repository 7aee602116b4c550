"""Append events to the audit chain."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Protocol, cast

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.db.models import Model
from django.utils import timezone

from audit.chain import (
    GENESIS_HASH,
    canonical_json,
    compute_hash,
    compute_project_hash,
    event_mac,
)
from audit.models import ActorKind, AuditEvent, format_timestamp
from core.exceptions import ValidationFailed

# Any constant works; it names the one advisory lock that serialises appends.
AUDIT_ADVISORY_LOCK_KEY = 0x5C4EC7A0


class Actor(Protocol):
    """Who acts: a person (a user) or an API token's principal (it carries ``api_token``)."""

    @property
    def pk(self) -> Any: ...

    def get_username(self) -> str: ...


def actor_fields(actor: Actor | None) -> dict[str, Any]:
    """Who did it: a person, an API token, or Shipcheck itself (None)."""
    if actor is None:
        return {"actor_kind": ActorKind.SYSTEM, "actor_id": None, "actor_label": "shipcheck"}
    token = getattr(actor, "api_token", None)
    if token is not None:
        return {
            "actor_kind": ActorKind.TOKEN,
            "actor_id": token.pk,
            "actor_label": f"token:{token.name}",
        }
    return {"actor_kind": ActorKind.USER, "actor_id": actor.pk, "actor_label": actor.get_username()}


def _lock_chain_head() -> AuditEvent | None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [AUDIT_ADVISORY_LOCK_KEY])
    # SQLite: transactions begin IMMEDIATE (settings), so this transaction
    # already holds the database's single write lock.
    return AuditEvent.objects.order_by("-seq").only("seq", "hash").first()


def _float_as_stored(text: str) -> float | int:
    """A JSON number as the database will give it back, so that the hash matches on re-reading.

    Python spells large floats with an exponent (``1e+16``); PostgreSQL's jsonb keeps
    numbers as decimals and returns those digits in full (``10000000000000000``), which
    read back as an int. Record them as that int from the start, on every database.
    """
    if "e+" in text.lower():
        value = Decimal(text)
        if value == value.to_integral_value():
            return int(value)
    return float(text)


def audit_record(
    *,
    actor: Actor | None,
    action: str,
    obj: Model | None = None,
    object_type: str | None = None,
    object_id: Any = None,
    object_repr: str | None = None,
    project: Model | int | None = None,
    release: Model | int | None = None,
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain, inside the caller's transaction.

    Must be called within ``transaction.atomic``: the event commits or rolls
    back with the change it describes.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change it records")
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = obj.pk if object_id is None else object_id
        object_repr = str(obj) if object_repr is None else object_repr
    data_text = json.dumps(data or {}, cls=DjangoJSONEncoder)
    texts = (
        action,
        object_type,
        object_repr,
        from_state,
        to_state,
        reason,
        data_text.replace("\\\\", ""),
    )
    if any(isinstance(t, str) and ("\x00" in t or "\\u0000" in t) for t in texts):
        # PostgreSQL cannot store NUL in text; services refuse it at input, this is the backstop.
        raise ValidationFailed("A NUL character cannot be recorded in the audit trail.")
    clean_data = json.loads(data_text, parse_float=_float_as_stored)
    head = _lock_chain_head()
    fields: dict[str, Any] = {
        "seq": (head.seq + 1) if head else 1,
        "created_at": timezone.now(),
        **actor_fields(actor),
        "action": action,
        "object_type": object_type or "",
        "object_id": str(object_id) if object_id is not None else "",
        "object_repr": (object_repr or "")[:300],
        "project_id": getattr(project, "pk", project),
        "release_id": getattr(release, "pk", release),
        "from_state": str(from_state or ""),
        "to_state": str(to_state or ""),
        "reason": reason or "",
        "data": clean_data,
        "prev_hash": head.hash if head else GENESIS_HASH,
    }
    hashed = dict(fields, created_at=format_timestamp(fields["created_at"]))
    fields["hash"] = compute_hash(hashed)
    if fields["project_id"] is not None:
        # The project's own chain; the advisory/write lock above serialises this too.
        project_head = (
            AuditEvent.objects.filter(project_id=fields["project_id"])
            .order_by("-seq")
            .values_list("project_seq", "project_hash")
            .first()
        )
        # Events of a project always carry their position in its chain.
        position, prev = (
            (cast(int, project_head[0]) + 1, project_head[1]) if project_head else (1, GENESIS_HASH)
        )
        fields["project_seq"] = position
        fields["project_prev_hash"] = prev
        fields["project_hash"] = compute_project_hash(prev, position, fields["hash"])
    fields["mac"] = event_mac(_mac_key(), fields["hash"], fields.get("project_hash"))
    fields["data_text"] = canonical_json(clean_data)
    return AuditEvent.objects.create(**fields)


def _mac_key() -> bytes:
    from audit.checkpoints import mac_key

    return mac_key()
