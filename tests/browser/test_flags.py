"""A release manager starts a flag rollout, watches the step bar move, pauses and resumes it.

A real local health endpoint watches the steps. The test plays the scheduler: it
runs ``flags_tick`` over the step's whole hold time in the step's own clock (each
poll at its slot, then the conclusion), so a loaded machine cannot starve the watch
of polls; the page, meanwhile, refreshes its panel by itself, as a person sees it.
"""

from __future__ import annotations

import pytest
from django.db import connection
from playwright.sync_api import expect

from audit.models import AuditEvent
from flags.choices import StepStatus
from flags.models import RolloutStep
from flags.services import flag_create, flags_tick
from monitoring.services import check_create
from tests.monitoring.servers import Answer, StubServer

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # The test's ticks and the live server's requests write at once: on SQLite one writer at a
    # time makes that a matter of luck; .ci/run's PostgreSQL run drives the same journey.
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the test's scheduler and the page write at once: runs on PostgreSQL",
    ),
]


def watch_the_step_to_its_end() -> None:
    """Be the scheduler for the step being watched: every poll at its slot, then the end."""
    step = RolloutStep.objects.get(status=StepStatus.WATCHING)
    assert step.started_at and step.ends_at
    moment = step.started_at
    for _ in range(100):
        moment += step.poll_interval
        flags_tick(now=moment)
        if not RolloutStep.objects.filter(pk=step.pk, status=StepStatus.WATCHING).exists():
            return
    raise AssertionError(f"step {step.pk} was still watching after 100 polls")


def test_start_watch_the_step_bar_move_pause_and_resume(
    login_as, people, release, envs, settings, monkeypatch
):
    settings.SHIPCHECK_FETCH_ALLOWLIST = ["127.0.0.1"]
    monkeypatch.setenv("SHIPCHECK_FLAGS_MIN_HOLD", "1")
    monkeypatch.setenv("SHIPCHECK_MONITORING_TICK", "0.2")
    server = StubServer()
    server.route("/healthz", Answer(200, {"ok": True}))
    try:
        prod = envs["production"]
        check_create(
            environment=prod,
            kind="health",
            actor=people.adam,
            name="Health",
            url=server.url("/healthz"),
        )
        flag_create(environment=prod, actor=people.alice, key="fast-checkout")
        page = login_as(people.alice)
        page.goto(f"/releases/{release.pk}/")
        panel = page.locator("#flags-panel")
        expect(panel).to_contain_text("No flag rollout is planned")
        panel.get_by_text("Plan a flag rollout").click()
        page.fill("#plan-flag", "fast-checkout")
        page.fill("#plan-hold", "3")
        page.select_option("select[name=hold_unit]", "seconds")
        panel.get_by_role("button", name="Plan the rollout").click()
        expect(panel.locator(".step-bar .step")).to_have_count(4)
        panel.get_by_role("button", name="Start").click()
        percent = panel.locator("[data-testid=plan-percent]")
        expect(percent).to_have_text("10 %")
        expect(panel.locator(".step-bar .step").first).to_contain_text("Watching")
        # The watch passes and the plan moves on by itself; the panel refreshes on its own.
        watch_the_step_to_its_end()
        expect(percent).to_have_text("25 %")
        expect(panel.locator(".step-bar .step").first).to_contain_text("Passed")
        panel.get_by_role("button", name="Pause").click()
        expect(panel.locator(".plan-status")).to_contain_text("Paused")
        held = percent.inner_text()
        panel.get_by_role("button", name="Resume").click()
        expect(panel.locator(".plan-status")).to_contain_text("Running")
        expect(percent).to_have_text(held)
        actions = set(
            AuditEvent.objects.filter(action__startswith="flags.plan_").values_list(
                "action", flat=True
            )
        )
        assert {
            "flags.plan_started",
            "flags.plan_advanced",
            "flags.plan_paused",
            "flags.plan_resumed",
        } <= actions
    finally:
        server.stop()
