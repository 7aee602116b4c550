"""Demo data: published release notes for every version that reached production.

Storefront's tickets link through its tracker (the template is set once, by its admin).
In every demo project (Storefront, Mobile App, Payments API) each release that production
ran (released, or rolled back since) gets its notes regenerated from its commits and
tickets and published by its release manager.
Idempotent: a release whose notes are published already is left as it is.
"""

from __future__ import annotations

from demo.monitoring.payments import PAYMENTS
from demo.releases import DEMO_PROJECT, OTHER_PROJECT, DemoContext
from releasenotes.models import NotesVersion
from releasenotes.selectors import tracker_template
from releasenotes.services import notes_publish, notes_regenerate, tracker_set
from releases.choices import ReleaseStatus
from releases.models import Release

TRACKER = "https://tracker.example.com/browse/{key}"
# Versions production ran: released, or released and rolled back afterwards.
SHIPPED = (ReleaseStatus.RELEASED, ReleaseStatus.ROLLED_BACK)
# The demo's projects: Storefront, Mobile App and Payments API.
DEMO_SLUGS = (DEMO_PROJECT[1], OTHER_PROJECT[1], PAYMENTS[1])


def seed(ctx: DemoContext) -> None:
    """Set Storefront's tracker template and publish the notes of every shipped release."""
    if not tracker_template(ctx.project):
        tracker_set(project=ctx.project, actor=ctx.people["adele"], template=TRACKER)
    published = 0
    shipped = (
        Release.objects.filter(project__slug__in=DEMO_SLUGS, status__in=SHIPPED)
        .select_related("project", "release_manager")
        .order_by("project__name", "version_major", "version_minor", "version_patch", "created_at")
    )
    done = set(NotesVersion.objects.values_list("release_id", flat=True))
    for release in shipped:
        if release.pk in done:
            continue
        notes_regenerate(release=release, actor=release.release_manager)
        notes_publish(release=release, actor=release.release_manager)
        published += 1
    if ctx.stdout is not None:
        ctx.stdout.write(f"Release notes: {published} published.")
