"""The approvals app's urgent item for the banner: an emergency review past its due time."""

from __future__ import annotations

from django.utils import timezone

from approvals.models import EmergencyReview
from approvals.permissions import can_complete_review
from core.when import format_when
from releases.registry import Urgent, UrgentAction, urgent_source


@urgent_source(order=50)
def overdue_reviews(*, user, releases) -> list[Urgent]:
    """One query for any number of releases."""
    by_id = {r.pk: r for r in releases}
    now = timezone.now()
    items = []
    for review in EmergencyReview.objects.filter(
        release_id__in=list(by_id), completed_at__isnull=True, due_at__lte=now
    ).order_by("due_at"):
        release = by_id[review.release_id]
        label = "Write the review" if can_complete_review(user, release) else "See the review"
        items.append(
            Urgent(
                release=release,
                title=f"The post-implementation review of {release.version} is overdue.",
                detail=(
                    f"It was due {format_when(review.due_at)}: an emergency release owes a "
                    "written review of what happened and what changes."
                ),
                actions=(
                    UrgentAction(
                        label, release.get_absolute_url() + "#emergency-review", style="primary"
                    ),
                ),
            )
        )
    return items
