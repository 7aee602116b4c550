"""Which events reach which channels: deployments, approvals, emergencies, every declared type."""

from __future__ import annotations

import pytest

from core.events import event_type, event_types
from notifications import services
from notifications.choices import DeliveryStatus
from notifications.models import Delivery
from notifications.routing import default_body
from releases.services import deployment_finish, release_promote
from tests.notifications.conftest import announce

pytestmark = pytest.mark.django_db


def channel(project, people, name, audiences, **kw):
    return services.channel_create(
        project=project,
        actor=people.adam,
        kind=kw.pop("kind", "slack"),
        name=name,
        url=kw.pop("url", "https://hooks.slack.com/services/T000/B000/XXXX"),
        audiences=audiences,
        **kw,
    ).channel


@pytest.fixture(autouse=True)
def _public_hosts_resolve_to_nothing(settings):
    """hooks.slack.com is named but never reached: nothing here runs the deliveries."""
    settings.SHIPCHECK_FETCH_ALLOWLIST = ["hooks.slack.com"]


def test_deployments__started_and_succeeded_per_environment(
    project, people, release, envs, gates_only
):
    gates_only("releases")
    ops = channel(project, people, "#ops", ["operations"])
    deployment = release_promote(release=release, environment=envs["dev"], actor=people.bob)
    deployment_finish(deployment=deployment, succeeded=True, actor=people.bob)
    rows = list(Delivery.objects.filter(channel=ops).order_by("id"))
    assert [r.event_key for r in rows] == ["deployment.started", "deployment.succeeded"]
    assert rows[0].subject == "Deploying 2.4.0 in Development"
    assert rows[1].data["environment"] == "dev" and rows[1].release == release
    assert all(r.status == DeliveryStatus.PENDING for r in rows)


def test_deployment_failed__is_urgent(project, people, release, envs, gates_only):
    gates_only("releases")
    channel(project, people, "#team", ["team"])
    deployment = release_promote(release=release, environment=envs["dev"], actor=people.bob)
    deployment_finish(deployment=deployment, succeeded=False, actor=people.bob, reason="Pods crash")
    failed = Delivery.objects.get(event_key="deployment.failed")
    assert failed.urgent and "failed" in failed.subject


def test_emergency__goes_at_once_to_the_release_channel(project, people, release, envs, gates_only):
    gates_only("releases")
    release.is_emergency = True
    release.save(update_fields=["is_emergency"])
    customers_only = channel(project, people, "#releases", ["customers"], is_release_channel=True)
    quiet = channel(project, people, "#customers", ["customers"])
    for name in ("dev", "staging"):
        step = release_promote(release=release, environment=envs[name], actor=people.bob)
        deployment_finish(deployment=step, succeeded=True, actor=people.bob)
    release_promote(release=release, environment=envs["production"], actor=people.bob)
    row = Delivery.objects.get(channel=customers_only)
    assert row.event_key == "deployment.emergency" and row.urgent
    assert row.status == DeliveryStatus.PENDING
    assert not Delivery.objects.filter(channel=quiet).exists()


def test_channel_event_filter__only_the_chosen_events(project, people):
    picky = channel(project, people, "#picky", ["team"], event_keys=["deployment.failed"])
    announce(project)
    assert not Delivery.objects.filter(channel=picky).exists()


def test_approvals__requested_and_decided_reach_the_team_channel(project, people, release):
    from approvals.services import approval_decide, approval_request

    team = channel(project, people, "#team", ["team"])
    approval_request(release=release, kind="scope", actor=people.alice)
    approval_decide(release=release, kind="scope", decision="approve", actor=people.pat)
    keys = list(
        Delivery.objects.filter(channel=team).order_by("id").values_list("event_key", flat=True)
    )
    assert keys == ["approvals.requested", "approvals.decided"]
    decided = Delivery.objects.get(event_key="approvals.decided")
    assert decided.data["decision"] == "approve" and decided.release == release


def test_every_declared_event_type_is_routed_by_its_audience(project, people):
    event_type("calendar.reminder_test", "A reminder (tests)", audience=("qa",))
    qa = channel(project, people, "#qa", ["qa"])
    team = channel(project, people, "#team", ["team"])
    announce(project, key="calendar.reminder_test", subject="Freeze tomorrow")
    assert Delivery.objects.filter(channel=qa).count() == 1
    assert not Delivery.objects.filter(channel=team).exists()
    keys = {t.key for t in event_types()}
    for key in (
        "deployment.started",
        "deployment.succeeded",
        "deployment.failed",
        "deployment.rolled_back",
        "deployment.emergency",
        "approvals.requested",
        "approvals.decided",
        "approvals.go_no_go_decided",
        "monitoring.canary_verdict",
        "monitoring.results",
    ):
        assert key in keys


def test_results__the_verdicts_figures_are_in_the_message():
    from core.events import Event

    event = Event(
        key="monitoring.results",
        project=None,
        subject="Verified: 2.4.0 in production",
        body="Every check passed.",
        data={
            "figures": [
                {
                    "check": "Error rate",
                    "verdict": "passed",
                    "detail": "0.2 % ≤ 1 %",
                    "baseline": 0.3,
                },
                {"check": "p95 latency", "verdict": "passed", "detail": "180 ms", "baseline": None},
            ]
        },
    )
    text = default_body(event)
    assert "- Error rate: passed (0.2 % ≤ 1 %); baseline 0.3" in text
    assert "- p95 latency: passed (180 ms)" in text


def test_routing__constant_queries_whatever_the_number_of_subscribers(
    project, people, django_assert_max_num_queries
):
    services.channel_create(
        project=project, actor=people.adam, kind="email", name="Mail", audiences=["stakeholders"]
    )
    channel(project, people, "#s", ["stakeholders"])

    def add(n, start):
        for i in range(start, start + n):
            services.subscriber_add(
                project=project, actor=people.adam, audience="stakeholders", email=f"p{i}@x.example"
            )

    add(3, 0)
    with django_assert_max_num_queries(12):
        announce(project)
    add(30, 100)
    with django_assert_max_num_queries(12):
        announce(project)
    assert Delivery.objects.filter(kind="email").count() == 3 + 33


def test_release_notes_as_body_and_data__the_notes_appear_once():
    from core.events import Event

    notes = "## New\n\n- One-page checkout"
    event = Event(
        key="releasenotes.published",
        project=None,
        subject="Notes",
        body=notes,
        data={"markdown": notes},
    )
    assert default_body(event) == notes
