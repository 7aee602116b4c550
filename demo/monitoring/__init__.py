"""Demo data for monitoring (``manage.py seed_demo``; idempotent).

* Storefront (``seed_late``, after its production deployments): health and
  metric checks on every environment (``checks``), pointed at the
  demo metrics server that ``make run`` starts (``demo.metrics_server`` on
  127.0.0.1:8001), and the monitoring history its released versions imply (``history``):
  passed canary and post-deploy windows for 2.1.0, 2.1.1 and 2.2.1, and for
  2.2.0 a passed canary whose post-deploy window failed on p95 latency (the
  reason it was rolled back).
* Payments API (``payments``), a second project with the same people, whose story is all
  monitoring, played through the services (each release reaches production
  with its test run, sign-offs, two approvals and a go/no-go, as in Storefront):
  1.4.0  canary passed, full rollout approved by Rita, post-deploy passed: released;
  1.4.1  canary failed on the error rate: deployment failed, rollback recommended;
  1.5.0  canary running now in production, polled live against the demo server.

Switch the demo server to ``degraded`` (``curl -X POST 127.0.0.1:8001/mode?set=degraded``)
to watch the running canary fail, or ``outage`` to watch it hold on an error.
"""

from __future__ import annotations

from demo.monitoring.checks import DEMO_SERVER, configure
from demo.monitoring.history import storefront_history
from demo.monitoring.payments import payments_project, payments_story
from demo.releases import DemoContext
from projects.models import Environment


def seed(ctx: DemoContext) -> None:
    """The Payments API project and its story; running it twice creates nothing new."""
    admin = ctx.people["adele"]
    project, _created = payments_project(ctx)
    for env in Environment.objects.filter(project=project).order_by("order"):
        configure(env, admin)
    story = payments_story(project, ctx.people)
    if ctx.stdout is not None:
        ctx.stdout.write(
            f"Monitoring: Payments API: {', '.join(story) or 'already there'}. "
            f"Demo metrics server: {DEMO_SERVER}."
        )


def seed_late(ctx: DemoContext) -> None:
    """After Storefront's production deployments (``demo.releases.seed_late``): the checks that
    watch its environments, then the history those deployments imply. (Configured only now: with
    checks in place, the deployments would have been held by live windows of their own.)"""
    admin = ctx.people["adele"]
    configured = [
        env.name
        for env in Environment.objects.filter(project=ctx.project).order_by("order")
        if configure(env, admin)
    ]
    history = storefront_history(ctx)
    if ctx.stdout is not None:
        ctx.stdout.write(
            f"Monitoring: {history} Storefront releases given their monitoring history; checks "
            f"configured in {', '.join(configured) or 'no new environment'}."
        )
