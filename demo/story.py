"""The demo story, chapter by chapter, in the order things happen (``manage.py seed_demo``).

``tell`` creates the people and the projects (``demo.releases.foundation``),
then plays the chapters below in order; each goes through the apps' public
services, so the audit trail reads in the order things happened and the
release history report flags only what the story means it to: the emergency
hotfix 2.2.2. Every chapter creates nothing on a second run.

The releases' story has two halves: ``demo.releases.seed`` plays each release
up to production, the chapters after it add what a team does before
production (checklists, sign-offs, approvals, the go/no-go, test runs), and
``demo.releases.seed_late`` deploys to production; the monitoring history of
those deployments comes last.
"""

from __future__ import annotations

from collections.abc import Callable

from demo import (
    approvals,
    checklists,
    deploycalendar,
    incidents,
    integrations,
    monitoring,
    notifications,
    releasenotes,
    releases,
)
from demo import flags as flag_rollouts
from demo import metrics as demo_metrics
from demo.releases import DemoContext, Output

CHAPTERS: tuple[Callable[[DemoContext], None], ...] = (
    # Storefront and Mobile App releases up to production; ctx.production_bound.
    releases.seed,
    # Shipped checklist templates; each release's checklist ticked to its stage.
    checklists.seed,
    # The production policy, sign-offs, approvals, go/no-go; the 2.2.2 emergency hotfix.
    approvals.seed,
    # Payments API, whose story is its monitoring windows (with its own approvals and tests).
    monitoring.seed,
    # CI tokens and the test runs Storefront's pipeline uploaded.
    integrations.seed,
    # The production deployments of the releases bound for production.
    releases.seed_late,
    # Storefront's checks, then the monitoring history of its production deployments.
    monitoring.seed_late,
    incidents.seed,  # Incidents, the 2.2.0 post-mortem, 2.1.1 closed after QA on production.
    # Three months of Search releases, rollbacks and incidents for the delivery metrics.
    demo_metrics.seed,
    flag_rollouts.seed,  # Storefront's production flags: rollouts at 25 %, completed, paused.
    # Published release notes for every version production ran (in every project).
    releasenotes.seed,
    # Windows, freezes, planned releases, a queued promotion and an override (after every deployment: they hold from now on).
    deploycalendar.seed,
    # Storefront's subscribers and channels, and a delivery log with a retry and a dead letter
    # (last, so that its log holds only what it sets out to show).
    notifications.seed,
)


def tell(stdout: Output | None = None) -> DemoContext:
    """Seed the whole demo (or what is missing of it); progress lines go to ``stdout``."""
    ctx = releases.foundation(stdout)
    for chapter in CHAPTERS:
        chapter(ctx)
    return ctx
