"""The release page's "Who was told" section (registered with ``releases.registry.panel``)."""

from __future__ import annotations

from typing import Any

from notifications.choices import DeliveryStatus
from notifications.permissions import can_resend
from notifications.selectors import release_deliveries


def delivery_panel_context(release: Any, request: Any) -> dict[str, Any]:
    """The release's delivery log: one query for the rows, whatever their number."""
    rows = release_deliveries(release=release, limit=50)
    return {
        "deliveries": rows,
        "dead_count": sum(1 for r in rows if r.status == DeliveryStatus.DEAD),
        "can_resend": can_resend(request.user, release.project),
    }
