"""The release page's "Who was told" section (registered with ``releases.registry.panel``)."""

from __future__ import annotations

from typing import Any

from notifications.choices import DeliveryStatus
from notifications.permissions import can_resend
from notifications.selectors import release_deliveries


def delivery_panel_context(release: Any, request: Any) -> dict[str, Any]:
    """The release's delivery log: one query for the rows, whatever their number."""
    from checklists.choices import ItemStatus
    from checklists.models import Item

    rows = release_deliveries(release=release, limit=50)
    # The checklist item the log can serve as evidence for (one query).
    item = (
        Item.objects.filter(
            checklist__release=release, status=ItemStatus.OPEN, text__icontains="stakeholder"
        )
        .order_by("position", "pk")
        .first()
    )
    return {
        "stakeholder_item": item,
        "stakeholders_told": sum(
            1
            for r in rows
            if "stakeholders" in r.audience.split(",") and r.status == DeliveryStatus.DELIVERED
        ),
        "deliveries": rows,
        "dead_count": sum(1 for r in rows if r.status == DeliveryStatus.DEAD),
        "can_resend": can_resend(request.user, release.project),
    }
