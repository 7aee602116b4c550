"""Windows end to end through the services, against real local HTTP servers.

The scheduler is played by calling ``monitoring_tick(now=...)`` at the times
a slot falls due, so a five-minute window runs in a fraction of a second while
every probe is a real HTTP request.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from audit.models import AuditEvent
from core.exceptions import Conflict, PermissionDenied, TransitionNotAllowed, ValidationFailed
from core.models import Notification
from monitoring.choices import (
    CheckVerdictStatus,
    DecisionAction,
    HookCallStatus,
    Outcome,
    RolloutState,
    SampleStatus,
    WindowKind,
    WindowStatus,
)
from monitoring.models import Baseline, HookCall, MonitoringWindow, PollGap, Sample
from monitoring.services import deployment_start, monitoring_tick, window_decide
from monitoring.services.polling import claim_slot
from releases.choices import DeploymentStatus, DeploymentStrategy, ReleaseStatus
from releases.services import deployment_finish, release_promote
from tests.monitoring.conftest import configure
from tests.monitoring.servers import Answer, by_query, prom_vector, sequence

pytestmark = pytest.mark.usefixtures("allow_loopback")

EPSILON = timedelta(milliseconds=5)


def health(stub, **extra):
    return {"name": "Health", "url": stub.url("/healthz"), **extra}


def error_rate(stub, **extra):
    return {
        "name": "Error rate",
        "url": stub.url(),
        "provider": "prometheus",
        "query": "error_rate",
        "unit": "%",
        "max_value": 5.0,
        **extra,
    }


def tick_through(window, slots, *, start=1):
    """Play the scheduler: one tick at each slot's due time."""
    for slot in range(start, slots + 1):
        monitoring_tick(now=window.started_at + window.poll_interval * slot + EPSILON)
    window.refresh_from_db()
    return window


def finish_window(window):
    """Tick every remaining slot and then once after the end."""
    window.refresh_from_db()
    slots = int((window.ends_at - window.started_at) // window.poll_interval)
    tick_through(window, slots, start=window.next_slot)
    monitoring_tick(now=window.ends_at + EPSILON)
    window.refresh_from_db()
    return window


def canary(release, env, actor):
    deployment = deployment_start(
        release=release, environment=env, actor=actor, strategy=DeploymentStrategy.CANARY
    )
    return deployment, MonitoringWindow.objects.get(deployment=deployment, kind=WindowKind.CANARY)


def test_canary__healthy_endpoints__passes_and_waits_for_a_person(release, envs, people, stub):
    stub.route("/healthz", Answer(200, {"status": "ok"}))
    stub.route("/api/v1/query", by_query({"error_rate": prom_vector(0.4)}))
    configure(envs["dev"], people.adam, health=[health(stub)], metrics=[error_rate(stub)])

    deployment, window = canary(release, envs["dev"], people.bob)
    assert window.status == WindowStatus.RUNNING and window.traffic_percent == 5
    window = finish_window(window)

    assert window.status == WindowStatus.PASSED
    assert window.rollout_state == RolloutState.AWAITING_PROMOTION
    assert "All 2 checks passed" in window.reason
    assert "0.4 %" in window.reason
    assert Sample.objects.filter(window_check__window=window).count() == 10
    with pytest.raises(Conflict):
        deployment_finish(deployment=deployment, succeeded=True, actor=people.bob)
    window_decide(window=window, actor=people.alice, action=DecisionAction.PROMOTE)
    window.refresh_from_db()
    assert window.rollout_state == RolloutState.FULL
    deployment_finish(deployment=deployment, succeeded=True, actor=people.bob)
    assert AuditEvent.objects.filter(
        action="monitoring.canary_promoted", actor_label="alice"
    ).exists()
    assert AuditEvent.objects.filter(action="monitoring.window_passed", to_state="passed").exists()


def test_canary__auto_promote_policy__proceeds_without_a_person(release, envs, people, stub):
    stub.route("/healthz", Answer(200))
    configure(envs["dev"], people.adam, health=[health(stub)], auto_promote_canary=True)
    _deployment, window = canary(release, envs["dev"], people.bob)
    window = finish_window(window)
    assert window.status == WindowStatus.PASSED
    assert window.rollout_state == RolloutState.FULL


def test_canary__critical_metric_fails__window_fails_at_once_and_hook_is_called_once(
    release, envs, people, stub, hook_server, committed
):
    stub.route("/healthz", Answer(200))
    stub.route(
        "/api/v1/query", by_query({"error_rate": sequence(prom_vector(0.5), prom_vector(9.5))})
    )
    hook_server.route("/rollback", Answer(202, {"accepted": True}))
    configure(
        envs["dev"],
        people.adam,
        health=[health(stub)],
        metrics=[error_rate(stub, failure_limit=1)],
        rollback_hook_url=hook_server.url("/rollback"),
        rollback_hook_secret="s3cret",
        canary_duration=60,
    )

    deployment, window = canary(release, envs["dev"], people.bob)
    tick_through(window, 2)
    assert window.status == WindowStatus.RUNNING  # one failure is within the limit of 1
    committed(tick_through, window, 3, start=3)

    assert window.status == WindowStatus.FAILED
    assert "Critical check 'Error rate' failed" in window.reason
    assert "9.5 % is above the maximum 5 %" in window.reason
    deployment.refresh_from_db()
    # The hook answered 2xx, so the failed deployment is recorded as rolled back.
    assert deployment.status == DeploymentStatus.ROLLED_BACK
    assert hook_server.hits["/rollback"] == 1
    call = HookCall.objects.get()
    assert call.status == HookCallStatus.SUCCEEDED
    seen = hook_server.requests[0]
    assert seen.headers["Idempotency-Key"] == call.idempotency_key
    assert seen.headers["Authorization"] == "Bearer s3cret"
    assert b'"event": "rollback"' in seen.body
    # Later ticks, a person's abort and a redelivered task never call it again.
    for slot in range(4, 8):
        committed(monitoring_tick, now=window.started_at + window.poll_interval * slot + EPSILON)
    from monitoring.services import hook_call_send

    committed(hook_call_send, call_id=call.pk)
    assert hook_server.hits["/rollback"] == 1
    assert Notification.objects.filter(
        recipient=release.release_manager, urgent=True, subject__startswith="Failed:"
    ).exists()
    assert Notification.objects.filter(recipient=people.quinn, urgent=True).exists()
    assert AuditEvent.objects.filter(action="deployment.failed", actor_kind="system").exists()


def test_outage__provider_errors__window_holds_as_error_not_failure(
    release, envs, people, stub, hook_server
):
    stub.route("/api/v1/query", Answer(503, {"status": "error", "error": "overloaded"}))
    hook_server.route("/rollback", Answer(200))
    configure(
        envs["dev"],
        people.adam,
        metrics=[error_rate(stub, consecutive_error_limit=2)],
        rollback_hook_url=hook_server.url("/rollback"),
        canary_duration=60,
    )

    deployment, window = canary(release, envs["dev"], people.bob)
    tick_through(window, 3)

    assert window.status == WindowStatus.ERROR
    assert "could not be measured 3 times in a row" in window.reason
    assert "Prometheus answered HTTP 503: overloaded" in window.reason
    assert "nothing is rolled back" in window.reason
    deployment.refresh_from_db()
    assert deployment.status == DeploymentStatus.IN_PROGRESS
    assert hook_server.hits["/rollback"] == 0
    assert not HookCall.objects.exists()
    assert Notification.objects.filter(
        recipient=release.release_manager, urgent=True, subject__startswith="Decide:"
    ).exists()
    assert set(Sample.objects.values_list("outcome", flat=True)) == {Outcome.ERROR}


def test_error_window__person_extends__polling_resumes_and_can_pass(release, envs, people, stub):
    answers = sequence(*([Answer(502)] * 3), prom_vector(0.2))
    stub.route("/api/v1/query", by_query({"error_rate": answers}))
    configure(
        envs["dev"],
        people.adam,
        metrics=[error_rate(stub, consecutive_error_limit=2)],
        canary_duration=3,
    )
    _deployment, window = canary(release, envs["dev"], people.bob)
    tick_through(window, 3)
    assert window.status == WindowStatus.ERROR

    window_decide(
        window=window,
        actor=people.alice,
        action=DecisionAction.EXTEND,
        extend_minutes=0.05,
        reason="Prometheus is back after a restart.",
    )
    window.refresh_from_db()
    assert window.status == WindowStatus.RUNNING
    assert window.checks.get().status == CheckVerdictStatus.RUNNING
    window = finish_window(window)
    assert window.status == WindowStatus.PASSED
    assert not PollGap.objects.filter(window=window).exists()
    decision = AuditEvent.objects.get(action="monitoring.decision")
    assert (
        decision.actor_label == "alice" and decision.reason == "Prometheus is back after a restart."
    )


def test_no_data__inconclusive_then_person_rolls_back(release, envs, people, stub):
    stub.route("/api/v1/query", by_query({"error_rate": prom_vector("NaN")}))
    configure(
        envs["dev"],
        people.adam,
        metrics=[error_rate(stub, inconclusive_limit=1)],
        canary_duration=60,
    )
    deployment, window = canary(release, envs["dev"], people.bob)
    tick_through(window, 2)
    assert window.status == WindowStatus.INCONCLUSIVE
    assert "gave no usable value in 2 of 2 measurements" in window.reason

    with pytest.raises(ValidationFailed):
        window_decide(
            window=window, actor=people.alice, action=DecisionAction.ROLLBACK, reason="  "
        )
    window_decide(
        window=window, actor=people.alice, action=DecisionAction.ROLLBACK, reason="No traffic data."
    )
    window.refresh_from_db()
    deployment.refresh_from_db()
    assert window.status == WindowStatus.FAILED
    assert window.reason.startswith("Aborted by alice")
    assert deployment.status == DeploymentStatus.FAILED
    assert not HookCall.objects.exists()  # no hook configured: rollback recommended to people
    assert Notification.objects.filter(subject__contains="Rollback recommended").exists()


def test_decide__token_or_outsider_or_qa__is_refused(release, envs, people, stub):
    from core.exceptions import NotFound

    stub.route("/healthz", Answer(200))
    configure(envs["dev"], people.adam, health=[health(stub)])
    _deployment, window = canary(release, envs["dev"], people.bob)
    with pytest.raises(NotFound):
        window_decide(window=window, actor=people.olga, action="accept", reason="x")
    with pytest.raises(PermissionDenied):
        window_decide(window=window, actor=people.quinn, action="accept", reason="x")
    with pytest.raises(TransitionNotAllowed):
        window_decide(window=window, actor=people.alice, action="promote")


def test_finish__while_canary_runs__is_refused_and_changes_nothing(release, envs, people, stub):
    stub.route("/healthz", Answer(200))
    configure(envs["dev"], people.adam, health=[health(stub)])
    deployment, window = canary(release, envs["dev"], people.bob)
    with pytest.raises(Conflict) as exc:
        deployment_finish(deployment=deployment, succeeded=True, actor=people.bob)
    assert "still being watched" in exc.value.message
    deployment.refresh_from_db()
    assert deployment.status == DeploymentStatus.IN_PROGRESS


def test_deployment_failed_by_ci__cancels_its_window(release, envs, people, stub):
    stub.route("/healthz", Answer(200))
    configure(envs["dev"], people.adam, health=[health(stub)])
    deployment, window = canary(release, envs["dev"], people.bob)
    deployment_finish(
        deployment=deployment, succeeded=False, actor=people.bob, reason="Pods crashlooping."
    )
    window.refresh_from_db()
    assert window.status == WindowStatus.CANCELLED
    assert monitoring_tick(now=window.started_at + timedelta(seconds=2)).claimed == 0


def _to_production(release, envs, people):
    for name in ("dev", "staging"):
        deployment = release_promote(release=release, environment=envs[name], actor=people.bob)
        deployment_finish(deployment=deployment, succeeded=True, actor=people.bob)
    return release_promote(release=release, environment=envs["production"], actor=people.bob)


@pytest.mark.usefixtures("monitoring_gates")
def test_post_deploy__production_release_is_held_until_the_window_passes(
    release, envs, people, stub, committed
):
    stub.route("/healthz", Answer(200))
    stub.route(
        "/api/v1/query", by_query({"error_rate": sequence(prom_vector(1.0), prom_vector(1.2))})
    )
    configure(
        envs["production"],
        people.adam,
        health=[health(stub)],
        metrics=[error_rate(stub, max_value=None, baseline_delta=1.0)],
    )
    from monitoring.services import precheck_run

    precheck_run(environment=envs["production"], actor=people.bob)
    deployment = committed(_to_production, release, envs, people)
    baseline = Baseline.objects.get(deployment=deployment)
    assert baseline.status == "taken" and baseline.value == 1.0
    deployment_finish(deployment=deployment, succeeded=True, actor=people.bob)
    release.refresh_from_db()
    assert release.status == ReleaseStatus.IN_PROGRESS  # held by the post-deploy window
    window = MonitoringWindow.objects.get(deployment=deployment, kind=WindowKind.POST_DEPLOY)

    window = finish_window(window)

    assert window.status == WindowStatus.PASSED
    assert "1.2 % is at most 2 % (baseline 1 % + 1 %)" in window.reason
    release.refresh_from_db()
    deployment.refresh_from_db()
    assert release.status == ReleaseStatus.RELEASED
    assert deployment.verified_at is not None
    assert AuditEvent.objects.filter(
        action="release.status_changed", to_state="released", actor_kind="system"
    ).exists()


@pytest.mark.usefixtures("monitoring_gates")
def test_post_deploy__regression_against_baseline__fails_the_succeeded_deployment(
    release, envs, people, stub, committed
):
    stub.route("/api/v1/query", by_query({"p95": sequence(prom_vector(180), prom_vector(1400))}))
    configure(
        envs["production"],
        people.adam,
        metrics=[
            {
                "name": "p95 latency",
                "url": stub.url(),
                "query": "p95",
                "unit": "ms",
                "baseline_ratio": 1.2,
                "noise_floor": 200,
                "failure_limit": 0,
            }
        ],
    )
    deployment = committed(_to_production, release, envs, people)
    deployment_finish(deployment=deployment, succeeded=True, actor=people.bob)
    window = MonitoringWindow.objects.get(deployment=deployment, kind=WindowKind.POST_DEPLOY)
    tick_through(window, 1)

    assert window.status == WindowStatus.FAILED
    assert "1,400 ms is above 216 ms (baseline 180 ms × 1.2) and above 200 ms" in window.reason
    deployment.refresh_from_db()
    release.refresh_from_db()
    assert deployment.status == DeploymentStatus.FAILED
    assert release.status == ReleaseStatus.IN_PROGRESS


def test_stale_slots__are_recorded_as_a_gap_not_fired_in_a_burst(release, envs, people, stub):
    stub.route("/healthz", Answer(200))
    configure(envs["dev"], people.adam, health=[health(stub)], canary_duration=60)
    _deployment, window = canary(release, envs["dev"], people.bob)
    tick_through(window, 1)
    # Workers were away for slots 2 to 6; the tick at slot 7 polls once.
    report = monitoring_tick(now=window.started_at + window.poll_interval * 7 + EPSILON)

    assert report.polled == 1 and report.gaps == 5
    gap = PollGap.objects.get(window=window)
    assert (gap.first_slot, gap.last_slot) == (2, 6)
    assert list(
        Sample.objects.filter(window_check__window=window).values_list("slot", flat=True)
    ) == [1, 7]
    window.refresh_from_db()
    assert window.next_slot == 8 and window.missed_slots == 5


def test_claim__two_workers_same_slot__only_one_wins(release, envs, people, stub):
    stub.route("/healthz", Answer(200))
    configure(envs["dev"], people.adam, health=[health(stub)])
    _deployment, window = canary(release, envs["dev"], people.bob)
    row = (
        MonitoringWindow.objects.filter(pk=window.pk)
        .values("id", "next_slot", "started_at", "ends_at", "poll_interval")
        .get()
    )
    now = window.started_at + window.poll_interval + EPSILON
    first, second = claim_slot(row, now), claim_slot(row, now)
    assert first.slot == 1
    assert second.slot == -1  # lost the race: nothing to poll


def test_hanging_endpoint__does_not_delay_the_others(release, envs, people, stub):
    import time

    stub.route("/healthz", Answer(200))
    stub.route("/hang", Answer(200, delay_seconds=5))
    configure(
        envs["dev"],
        people.adam,
        health=[health(stub), {"name": "Hangs", "url": stub.url("/hang"), "timeout_seconds": 0.5}],
    )
    _deployment, window = canary(release, envs["dev"], people.bob)
    started = time.monotonic()
    tick_through(window, 1)
    elapsed = time.monotonic() - started
    assert elapsed < 2.0
    samples = {s.window_check.name: s for s in Sample.objects.select_related("window_check")}
    assert samples["Health"].status == SampleStatus.OK
    assert samples["Hangs"].status == SampleStatus.ERROR
    assert "No complete answer within 0.5 s" in samples["Hangs"].detail
