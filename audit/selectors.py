"""Reads of the audit trail: pages, checkpoints, chain verification.

Everything that lists events takes ``AuditFilters`` (audit/filters.py), which
already holds only the projects the reader may see (compliance.filters parses
and narrows them). Lists page by sequence number (keyset), never by OFFSET,
and never count the whole table. The fast row streams the exports and the
verifiers read are in audit/rows.py (re-exported here).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass

from django.db import connection
from django.db.models import QuerySet

from audit.chain import (
    GENESIS_HASH,
    Break,
    Walk,
    promise,
    unmet_promises,
    verify_rows,
)
from audit.filters import AuditFilters
from audit.models import AuditCheckpoint, AuditEvent
from audit.rows import STREAM_BATCH as STREAM_BATCH  # re-exported: importable from here as before
from audit.rows import audit_row_batches as audit_row_batches
from audit.rows import data_mismatch, first_break, stream_rows
from audit.verify_parallel import PARALLEL_THRESHOLD, verify_parallel, worker_count

PAGE_SIZE = 50


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


# --- Filtering --------------------------------------------------------------------


def seq_bounds(filters: AuditFilters) -> tuple[int | None, int | None]:
    """The date range as sequence numbers: ``(first seq included, first seq excluded)``.

    Events are numbered in the order they were written, so a date range is a
    contiguous run of the chain; paging and exports then use the seq indexes.
    """
    low = high = None
    if filters.date_from is not None:
        low = (
            AuditEvent.objects.filter(created_at__gte=filters.date_from)
            .order_by("created_at")
            .values_list("seq", flat=True)
            .first()
        )
        if low is None:
            low = _head_seq() + 1
    if filters.date_to is not None:
        high = (
            AuditEvent.objects.filter(created_at__gte=filters.date_to)
            .order_by("created_at")
            .values_list("seq", flat=True)
            .first()
        )
    return low, high


def _head_seq() -> int:
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def audit_event_queryset(
    filters: AuditFilters, *, bounds: tuple | None = None
) -> QuerySet[AuditEvent]:
    """Events matching ``filters``, limited to what the reader may see. Unordered."""
    qs = AuditEvent.objects.all()
    if filters.project is not None:
        qs = qs.filter(project_id=filters.project.pk)
    elif not filters.everything:
        qs = qs.filter(project_id__in=filters.project_ids)
    if filters.release_id:
        qs = qs.filter(release_id=filters.release_id)
    if filters.actor:
        kind, actor_id, label = filters.actor
        qs = qs.filter(actor_kind=kind)
        qs = qs.filter(actor_id=actor_id) if actor_id is not None else qs.filter(actor_label=label)
    if filters.action:
        qs = (
            qs.filter(action__startswith=filters.action)
            if filters.action_prefix
            else qs.filter(action=filters.action)
        )
    low, high = bounds if bounds is not None else seq_bounds(filters)
    if low is not None:
        qs = qs.filter(seq__gte=low)
    if high is not None:
        qs = qs.filter(seq__lt=high)
    return qs


@dataclass
class EventPage:
    events: list[AuditEvent]
    newer: int | None  # pass as ?after= to see newer events
    older: int | None  # pass as ?before= to see older events


def audit_event_page(
    filters: AuditFilters,
    *,
    before: int | None = None,
    after: int | None = None,
    size: int = PAGE_SIZE,
) -> EventPage:
    """One page of events, newest first, by keyset on ``seq``: the same few queries on any page."""
    qs = audit_event_queryset(filters)
    if after is not None:
        rows = list(qs.filter(seq__gt=after).order_by("seq")[: size + 1])
        more_newer = len(rows) > size
        rows = list(reversed(rows[:size]))
        newer = rows[0].seq if more_newer and rows else None
        older = rows[-1].seq if rows else None
        return EventPage(rows, newer, older)
    if before is not None:
        qs = qs.filter(seq__lt=before)
    rows = list(qs.order_by("-seq")[: size + 1])
    more_older = len(rows) > size
    rows = rows[:size]
    older = rows[-1].seq if more_older and rows else None
    newer = rows[0].seq if before is not None and rows else None
    return EventPage(rows, newer, older)


# --- Checkpoints and verification -----------------------------------------------------


def checkpoint_latest(
    *, project_id: int | None = None, upto_seq: int | None = None
) -> AuditCheckpoint | None:
    """The newest checkpoint of the whole chain (``project_id`` None) or of one project."""
    qs = (
        AuditCheckpoint.objects.filter(project_id=project_id)
        if project_id
        else AuditCheckpoint.objects.filter(project_id__isnull=True)
    )
    if upto_seq is not None:
        qs = qs.filter(seq__lte=upto_seq)
    return qs.order_by("-seq", "-id").first()


def checkpoints_latest_for(
    *, project_ids: Iterable[int], whole_chain: bool
) -> list[AuditCheckpoint]:
    """The newest checkpoint of each of these projects (and of the whole chain), in two queries."""
    from django.db.models import OuterRef, Subquery

    found = [checkpoint_latest()] if whole_chain else []
    newest = (
        AuditCheckpoint.objects.filter(project_id=OuterRef("project_id"))
        .order_by("-seq", "-id")
        .values("pk")[:1]
    )
    found += list(
        AuditCheckpoint.objects.filter(
            project_id__in=list(project_ids), pk=Subquery(newest)
        ).order_by("project_id")
    )
    return [c for c in found if c is not None]


def checkpoints_latest_per_scope() -> list[AuditCheckpoint]:
    """The newest checkpoint of the whole chain and of every project that has one."""
    latest: dict = {}
    for checkpoint in AuditCheckpoint.objects.order_by("project_id", "-seq", "-id").iterator(
        chunk_size=1000
    ):
        latest.setdefault(checkpoint.project_id, checkpoint)
    return list(latest.values())


@dataclass
class VerifyReport:
    count: int
    broken: Break | None
    checkpoints: list[AuditCheckpoint]
    bad_signatures: list[str]
    warnings: list[str]


def audit_chain_check(
    *,
    all_checkpoints: bool = False,
    key: bytes | None = None,
    workers: int | None = None,
    published: str | None = None,
) -> VerifyReport:
    """Walk the whole chain in the database and hold it to the signed checkpoints.

    Checks every event's hash, its MAC, its link to the one before, every
    project's own chain, and that the chain still reaches (and matches) the
    heads the latest checkpoints vouch for, which reveals a truncated tail.
    The checkpoints are those in the database and those published outside it
    (``published``: a file of statements; default the configured
    ``SHIPCHECK_AUDIT_CHECKPOINT_DIR``'s), so deleting checkpoint rows hides nothing.
    """
    from audit.chain import event_mac_key
    from audit.checkpoints import checkpoint_problem, published_statements, signing_key

    key = key or signing_key()
    checkpoints = (
        list(AuditCheckpoint.objects.all()) if all_checkpoints else checkpoints_latest_per_scope()
    )
    walk = Walk(mode="all")
    bad_signatures = []
    for checkpoint in checkpoints:
        problem = checkpoint_problem(checkpoint.statement(), key)
        if problem:
            bad_signatures.append(
                f"{checkpoint.scope} at sequence number {checkpoint.seq}: {problem}"
            )
        else:
            promise(walk, checkpoint.statement())
    for statement in _latest_per_scope(published_statements(published)):
        problem = checkpoint_problem(statement, key)
        if problem:
            bad_signatures.append(
                f"published {statement.get('scope')} at sequence number {statement.get('seq')}: "
                f"{problem}"
            )
        else:
            promise(walk, statement)
    broken = None
    mac_key = event_mac_key(key)
    head = _head_seq()
    if workers is None:
        workers = (
            worker_count()
            if connection.vendor == "postgresql" and head >= PARALLEL_THRESHOLD
            else 1
        )
    if workers > 1 and connection.vendor == "postgresql":
        broken = verify_parallel(walk, head, workers, mac_key=mac_key)
    else:
        with closing(stream_rows(AuditEvent.objects.all(), canonical_data=True)) as rows:
            broken = verify_rows(
                rows, walk, start_seq=1, start_prev_hash=GENESIS_HASH, mac_key=mac_key
            )
        broken = first_break(broken, data_mismatch(1, head))
    if broken is None:
        broken = unmet_promises(walk)
    warnings = _staleness_warnings(walk)
    return VerifyReport(walk.count, broken, checkpoints, bad_signatures, warnings)


def _latest_per_scope(statements: list[dict]) -> list[dict]:
    """The newest statement of each scope (by seq): each vouches for all before it."""
    latest: dict = {}
    for statement in statements:
        if not isinstance(statement, dict) or not isinstance(statement.get("seq"), int):
            continue
        scope = statement.get("scope")
        if scope not in latest or statement["seq"] > latest[scope]["seq"]:
            latest[scope] = statement
    return list(latest.values())


def _staleness_warnings(walk: Walk) -> list[str]:
    from django.conf import settings
    from django.utils import timezone

    latest = checkpoint_latest()
    if walk.last_seq is None:
        return []
    if latest is None:
        return [
            "No checkpoint has been taken yet: a cut-off tail would go unnoticed "
            "(run `manage.py audit_checkpoint` or the Celery beat schedule)."
        ]
    interval = settings.SHIPCHECK_AUDIT_CHECKPOINT_SECONDS
    age = (timezone.now() - latest.created_at).total_seconds()
    if latest.seq < walk.last_seq and age > 2 * interval + 60:
        return [
            f"The newest checkpoint is {int(age // 60)} minutes old and {walk.last_seq - latest.seq} "
            "events are newer: is beat running? (Deleted checkpoints also look like this.)"
        ]
    return []


def audit_chain_verify() -> tuple[int, Break | None]:
    """Verify the chain (and the latest checkpoints): (events verified, first break or None)."""
    report = audit_chain_check()
    return report.count, report.broken
