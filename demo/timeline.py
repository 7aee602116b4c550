"""Move one release's story into the past, every row by the same amount, so that it still reads in order.

The demo plays its whole history within seconds, but a monitoring window lasts
minutes: a finished window that follows its deployment must have started some
time ago. ``story_shift`` moves what a release's rows say happened (its creation,
tickets, commits, checklist ticks, test runs, approvals, go/no-go, deployments,
emergency review) back by one ``delta``, so that sign-offs still precede the
deployment they cleared and the windows written after it can follow it.

The audit trail is not touched: it is append-only and says when the demo was
seeded (as for the Search project's history in ``demo.metrics``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import F

from approvals.models import (
    AgendaItem,
    Approval,
    ApprovalRequest,
    EmergencyReview,
    GoNoGoMeeting,
    MeetingVote,
)
from checklists.models import Checklist, Item, Step
from releases.models import Commit, Deployment, Release, TestRun, Ticket

# (model, the path from it to the release, its time fields)
_DATED = (
    (Release, "pk", ("created_at",)),
    (Ticket, "release", ("created_at",)),
    (Commit, "release", ("created_at",)),
    (TestRun, "release", ("created_at",)),
    (Checklist, "release", ("created_at",)),
    (Step, "checklist__release", ("actual_output_at",)),
    (Item, "checklist__release", ("completed_at",)),
    (ApprovalRequest, "release", ("created_at",)),
    (Approval, "release", ("created_at", "state_changed_at")),
    (GoNoGoMeeting, "release", ("scheduled_for", "decided_at", "created_at")),
    (MeetingVote, "meeting__release", ("created_at", "updated_at")),
    (AgendaItem, "meeting__release", ("updated_at",)),
    (EmergencyReview, "release", ("created_at", "due_at", "completed_at")),
    (Deployment, "release", ("created_at", "started_at", "finished_at", "verified_at")),
)


def story_shift(
    release: Release, delta: timedelta, *, before: datetime, since: datetime | None = None
) -> None:
    """Move every time of ``release``'s rows dated in [``since``, ``before``) by ``delta``."""
    for model, path, fields in _DATED:
        rows = model.objects.filter(**{path: release.pk})
        for name in fields:
            dated = rows.filter(**{f"{name}__lt": before})
            if since is not None:
                dated = dated.filter(**{f"{name}__gte": since})
            dated.update(**{name: F(name) + delta})
