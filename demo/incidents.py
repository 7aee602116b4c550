"""Demo data: Storefront's incidents, the 2.2.0 post-mortem, and a release closed by QA.

* A resolved SEV2, "Search answers slowly after 2.2.0", caused by 2.2.0's production
  deployment (the one rolled back): three status updates, the rollback decision with its
  criteria, 2.2.1 linked as the hotfix (rework), and its post-mortem *reviewed*, with one
  action item done and one overdue.
* An open SEV3, "Coupon banner flickers on Safari", identified, with one update.
* 2.1.1 closed: QA confirmed its ticket on production, the results went to the
  stakeholders.

Everything goes through the services; a second run creates nothing (each step looks for
what it would create first).
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from demo.releases import DemoContext
from incidents.models import Incident, PostMortem, ReleaseClosure, TicketConfirmation
from incidents.services import (
    action_item_add,
    action_item_set_done,
    hotfix_link,
    incident_open,
    incident_resolve,
    mitigation_decide,
    postmortem_for_incident,
    postmortem_transition,
    postmortem_update,
    release_close,
    status_update_post,
    ticket_confirm,
    timeline_entry_add,
)
from releases.models import Deployment

SEARCH_TITLE = "Search answers slowly after 2.2.0"
COUPON_TITLE = "Coupon banner flickers on Safari"


def _search_incident(ctx: DemoContext) -> None:
    project, people = ctx.project, ctx.people
    if Incident.objects.filter(project=project, title=SEARCH_TITLE).exists():
        return
    release = ctx.releases.get("2.2.0")
    deployment = (
        Deployment.objects.filter(release=release, environment__tier="production")
        .order_by("-started_at")
        .first()
        if release
        else None
    )
    if deployment is None or deployment.started_at is None:
        return
    # The demo plays its whole history within seconds: the trouble starts with the deployment.
    started = min(deployment.started_at, timezone.now())
    incident = incident_open(
        actor=people["rita"],
        project=project,
        title=SEARCH_TITLE,
        severity=2,
        impact="Search takes 1–2 s for everyone; a few checkouts time out on the results page.",
        started_at=started,
        cause_deployment=deployment,
        commander=people["rita"],
        responders=[people["eli"], people["quinn"]],
    )
    status_update_post(
        actor=people["rita"],
        incident=incident,
        state="identified",
        actions_taken="Latency traced to the facet queries of the new index.",
        next_steps="Roll back 2.2.0 to 2.1.1.",
    )
    mitigation_decide(
        actor=people["rita"],
        incident=incident,
        decision="rollback",
        reason="p95 is eight times the threshold and no quick fix is known.",
        criteria=["thresholds", "critical_broken"],
    )
    timeline_entry_add(
        actor=people["eli"], incident=incident, text="Support reported slow search from two shops."
    )
    status_update_post(
        actor=people["rita"],
        incident=incident,
        state="monitoring",
        actions_taken="Production rolled back to 2.1.1; latency back to 180 ms.",
        next_steps="Watch for 30 minutes, then resolve.",
    )
    hotfix = ctx.releases.get("2.2.1")
    if hotfix is not None:
        hotfix_link(actor=people["rita"], incident=incident, release=hotfix)
    incident_resolve(
        actor=people["rita"], incident=incident, summary="Stable on 2.1.1; 2.2.1 adds the index."
    )
    postmortem = postmortem_for_incident(actor=people["rita"], incident=incident)
    postmortem = postmortem_update(
        actor=people["eli"],
        postmortem=postmortem,
        summary="2.2.0 moved search to the new index; facet queries ran without an index and "
        "production search slowed to 1.4 s at the 95th percentile until the rollback.",
        impact="About 40 minutes of slow search for every shopper; 23 checkouts timed out.",
        root_causes="The facet table's index existed in staging (created by hand) but not in "
        "the migration.",
        trigger="The production deployment of 2.2.0.",
        resolution="Rolled back to 2.1.1; 2.2.1 adds the index in a migration.",
        detection="The post-deploy monitoring window's latency check, then support.",
        went_well="The post-deploy window caught it within minutes; the rollback took 4 minutes.",
        went_wrong="Staging differed from production in a way no check showed.",
        got_lucky="The sale started a day later.",
    )
    today = timezone.localdate()
    done = action_item_add(
        actor=people["rita"],
        postmortem=postmortem,
        title="Add the facet index in a migration",
        owner=people["eli"],
        due_on=today - timedelta(days=3),
        ticket_key="SF-140",
    )
    action_item_set_done(actor=people["eli"], item=done)
    action_item_add(
        actor=people["rita"],
        postmortem=postmortem,
        title="Compare staging and production schemas in CI",
        owner=people["eli"],
        due_on=today - timedelta(days=1),
        ticket_key="SF-151",
    )
    for state in ("in_review", "reviewed"):
        postmortem = postmortem_transition(
            actor=people["paula"], postmortem=postmortem, to_state=state
        )


def _coupon_incident(ctx: DemoContext) -> None:
    project, people = ctx.project, ctx.people
    if Incident.objects.filter(project=project, title=COUPON_TITLE).exists():
        return
    incident = incident_open(
        actor=people["quinn"],
        project=project,
        title=COUPON_TITLE,
        severity=3,
        impact="The coupon banner flickers in Safari 17; coupons still apply.",
        started_at=timezone.now() - timedelta(minutes=50),
        commander=people["eli"],
    )
    status_update_post(
        actor=people["eli"],
        incident=incident,
        state="identified",
        actions_taken="A CSS transition restarts on every cart refresh.",
        next_steps="Fix forward in the next patch release.",
    )


def _close_release(ctx: DemoContext) -> None:
    release = ctx.releases.get("2.1.1")
    if release is None or ReleaseClosure.objects.filter(release=release).exists():
        return
    if release.status != "released":
        return
    people = ctx.people
    checked = set(
        TicketConfirmation.objects.filter(release=release).values_list("ticket_id", flat=True)
    )
    for ticket in release.tickets.exclude(pk__in=checked):
        ticket_confirm(
            actor=people["quinn"],
            ticket=ticket,
            confirmed=True,
            note="Checked on production with three coupon codes.",
        )
    release_close(
        actor=people["rita"],
        release=release,
        summary="Coupon rounding fixed; confirmed by QA on production. No incident.",
    )


def seed(ctx: DemoContext) -> None:
    _search_incident(ctx)
    _coupon_incident(ctx)
    _close_release(ctx)
    if ctx.stdout is not None:
        count = PostMortem.objects.filter(project=ctx.project).count()
        ctx.stdout.write(f"Incidents: 2 incidents, {count} post-mortems, 2.1.1 closed.")
