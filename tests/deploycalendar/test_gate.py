"""The deploy-window gate in the one gate answer: sentence, next opening, queries, override."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from core.exceptions import Conflict, PermissionDenied, ValidationFailed
from deploycalendar.models import Override
from deploycalendar.services import freeze_create, override_grant, window_create
from releases.exceptions import GateBlocked
from releases.gates import gate_evaluate
from releases.services import release_promote
from tests.deploycalendar.conftest import minute, wall

pytestmark = pytest.mark.django_db


def _gate(report):
    return next((g for g in report.gates if g.code == "deploy_window"), None)


def test_gate__no_window_no_freeze__is_silent(staged, envs):
    assert _gate(gate_evaluate(release=staged, environment=envs["production"])) is None


def test_gate__freeze__closes_with_name_and_end_in_the_freezes_zone(staged, envs, freeze_now):
    freeze = freeze_now()
    gate = _gate(gate_evaluate(release=staged, environment=envs["production"]))
    assert gate.state == "closed"
    assert gate.reason.startswith("production is frozen ('Year-end freeze') until ")
    assert gate.reason.endswith(("CET.", "CEST."))
    assert gate.freeze == "Year-end freeze"
    assert gate.next_opening is not None and gate.next_opening == minute(120)
    # Staging is not frozen: the freeze is per environment.
    assert _gate(gate_evaluate(release=staged, environment=envs["staging"])) is None
    with pytest.raises(GateBlocked, match="frozen"):
        release_promote(
            release=staged, environment=envs["production"], actor=staged.release_manager
        )
    assert freeze.pk


def test_gate__outside_window__says_the_rule_and_when_it_opens(staged, envs, window_later):
    window_later(120)
    gate = _gate(gate_evaluate(release=staged, environment=envs["production"]))
    assert gate.state == "closed"
    assert gate.reason.startswith("Outside the production deploy window (every day ")
    assert "; it next opens " in gate.reason
    assert gate.next_opening == minute(120)
    assert gate.as_dict()["next_opening"] == minute(120).isoformat()


def test_gate__inside_window__is_open(staged, envs, window_later):
    window_later(-10)
    gate = _gate(gate_evaluate(release=staged, environment=envs["production"]))
    assert gate.state == "open" and "Inside" in gate.reason
    assert "next_opening" not in gate.as_dict()


def test_gate__major_release_needs_a_maintenance_window(staged, envs, window_later):
    window_later(-10)  # an ordinary window is open now ...
    window_later(300, kind="maintenance", release_types=["minor"])  # ... but minor needs this one
    staged.type = "minor"
    gate = _gate(gate_evaluate(release=staged, environment=envs["production"]))
    assert gate.state == "closed"
    assert gate.reason.startswith(
        "A minor release enters production only inside a maintenance window"
    )
    assert gate.next_opening == minute(300)


def test_gate__organisation_wide_freeze_holds_every_production(
    staged, envs, people, django_user_model
):
    admin = django_user_model.objects.create_user("root", is_staff=True)
    with pytest.raises(PermissionDenied):
        freeze_create(
            environment=None,
            actor=people.adam,
            name="Org",
            start=wall(minute(-5)),
            end=wall(minute(60)),
            time_zone="UTC",
        )
    freeze_create(
        environment=None,
        actor=admin,
        name="Company holiday",
        start=wall(minute(-5)),
        end=wall(minute(60)),
        time_zone="UTC",
    )
    gate = _gate(gate_evaluate(release=staged, environment=envs["production"]))
    assert "('Company holiday' (organisation-wide))" in gate.reason
    assert _gate(gate_evaluate(release=staged, environment=envs["staging"])) is None


@pytest.mark.parametrize("rows", [1, 6])
def test_gate__adds_at_most_two_queries(
    staged, envs, freeze_now, window_later, rows, settings, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for i in range(rows):
        freeze_now(name=f"Freeze {i}")
        window_later(120 + i)
    settings.SHIPCHECK_GATE_APPS = {"releases"}  # the answer without this gate
    with CaptureQueriesContext(connection) as without:
        gate_evaluate(release=staged, environment=envs["production"])
    settings.SHIPCHECK_GATE_APPS = {"releases", "deploycalendar"}
    with django_assert_max_num_queries(len(without.captured_queries) + 2):
        report = gate_evaluate(release=staged, environment=envs["production"])
    assert not report.is_open and _gate(report).state == "closed"


class TestOverride:
    def test_emergency_approver_overrides_once_loudly(self, staged, envs, people, freeze_now):
        freeze_now()
        override = override_grant(
            release=staged,
            environment=envs["production"],
            actor=people.emma,
            reason="Card payments fail for every customer; the fix must go out.",
        )
        gate = _gate(gate_evaluate(release=staged, environment=envs["production"]))
        assert gate.state == "waived"
        assert "Waived: overridden by emma: Card payments fail" in gate.reason
        deployment = release_promote(
            release=staged, environment=envs["production"], actor=people.alice
        )
        assert deployment.pk
        event = AuditEvent.objects.get(action="calendar.override_granted")
        assert event.reason.startswith("Card payments") and event.object_id == str(override.pk)
        from core.models import Notification

        assert Notification.objects.filter(
            recipient=people.alice, subject__startswith="Freeze overridden"
        ).exists()

    def test_the_freeze_stays_for_other_releases(self, staged, envs, people, freeze_now, project):
        from releases.services import release_create

        freeze_now()
        override_grant(
            release=staged,
            environment=envs["production"],
            actor=people.emma,
            reason="Outage fix needed now.",
        )
        other = release_create(
            project=project, version="2.5.0", title="Other", actor=people.alice, rollback_plan="x"
        )
        assert _gate(gate_evaluate(release=other, environment=envs["production"])).state == "closed"

    @pytest.mark.parametrize("who", ["alice", "bob", "olga", "aud"])
    def test_others_may_not_override(self, staged, envs, people, freeze_now, who):
        freeze_now()
        with pytest.raises((PermissionDenied, Exception)) as info:
            override_grant(
                release=staged,
                environment=envs["production"],
                actor=getattr(people, who),
                reason="Because I want to.",
            )
        assert info.type.__name__ in ("PermissionDenied", "NotFound", "RoleNotHeld")
        assert not Override.objects.exists()

    def test_reason_is_required_and_something_must_hold(self, staged, envs, people, freeze_now):
        with pytest.raises(Conflict, match="nothing to override"):
            override_grant(
                release=staged,
                environment=envs["production"],
                actor=people.emma,
                reason="No freeze at all here.",
            )
        freeze_now()
        with pytest.raises(ValidationFailed, match="Write why"):
            override_grant(
                release=staged, environment=envs["production"], actor=people.emma, reason="  "
            )


class TestBadInput:
    @pytest.mark.parametrize(
        "kwargs,match",
        [
            ({"time_zone": "Mars/Base"}, "IANA"),
            ({"end": "2026-01-01T08:00"}, "after the start"),
            ({"end": "2026-01-01T09:00"}, "after the start"),
            ({"rrule": "FREQ=NEVER"}, "cannot be read"),
            ({"start": "tomorrow"}, "not a date and time"),
            ({"start": "2026-01-01T09:00+01:00"}, "offset"),
        ],
    )
    def test_refused_with_a_sentence(self, envs, people, kwargs, match):
        base = {"start": "2026-01-01T09:00", "end": "2026-01-01T17:00", "time_zone": "UTC"}
        with pytest.raises(ValidationFailed, match=match):
            window_create(
                environment=envs["production"], actor=people.alice, name="W", **{**base, **kwargs}
            )

    def test_gap_time_is_accepted_and_the_reading_recorded(self, envs, people):
        window_create(
            environment=envs["production"],
            actor=people.alice,
            name="Night",
            start="2026-03-29T02:30",
            end="2026-03-29T04:00",
            time_zone="Europe/Berlin",
        )
        event = AuditEvent.objects.get(action="calendar.window_created")
        assert "does not exist" in event.data["notes"][0]

    def test_cron_pair_import(self, envs, people):
        freeze = freeze_create(
            environment=envs["production"],
            actor=people.alice,
            name="Weekend",
            cron_start="0 23 * * 5",
            cron_end="0 7 * * 1",
            time_zone="UTC",
        )
        assert freeze.rrule == "FREQ=WEEKLY;BYDAY=FR"
        with pytest.raises(ValidationFailed, match="five fields"):
            freeze_create(
                environment=envs["production"],
                actor=people.alice,
                name="W",
                cron_start="0 23 *",
                cron_end="0 7 * * 1",
                time_zone="UTC",
            )

    def test_outsider_and_engineer_may_not_add(self, envs, people):
        from core.exceptions import NotFound

        base = {
            "name": "W",
            "start": "2026-01-01T09:00",
            "end": "2026-01-01T17:00",
            "time_zone": "UTC",
        }
        with pytest.raises(NotFound):
            window_create(environment=envs["production"], actor=people.olga, **base)
        with pytest.raises(PermissionDenied):
            window_create(environment=envs["production"], actor=people.bob, **base)


def test_release_record__lists_the_override(client, staged, envs, people, freeze_now):
    freeze_now()
    override_grant(
        release=staged, environment=envs["production"], actor=people.emma, reason="Outage fix, now."
    )
    client.force_login(people.aud)
    record = client.get(f"/audit/releases/{staged.pk}/record.json").json()
    section = next(s for s in record["sections"] if s["key"] == "calendar")
    overrides = section["tables"][0]["rows"]
    assert (
        overrides[0]["reason"] == "Outage fix, now." and overrides[0]["environment"] == "production"
    )
