"""What the checklist readers share: the deployments that pass a gate, ids from a URL."""

from __future__ import annotations

from typing import Any

from core.exceptions import NotFound
from releases.choices import DeploymentStatus

# A deployment in one of these states means the release went through (or is going through) the
# environment; the gate in front of it was passed. Failed and rolled-back attempts do not count:
# the team may need to redo the checks before trying again.
GATE_PASSING_DEPLOYMENT_STATES = (
    DeploymentStatus.PENDING,
    DeploymentStatus.IN_PROGRESS,
    DeploymentStatus.SUCCEEDED,
)


def pk_or_404(value: Any) -> int:
    """``value`` as a primary key; anything that is not a number is simply not found."""
    try:
        return int(value)
    except (TypeError, ValueError):
        raise NotFound("No such object.") from None
