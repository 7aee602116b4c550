"""Working an incident: updates from the template, reminders, timeline, mitigation, hotfix."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from core.exceptions import PermissionDenied, ValidationFailed
from core.models import Notification
from incidents.models import StatusUpdate
from incidents.selectors import incident_timeline
from incidents.services import (
    hotfix_start,
    incident_open,
    incident_people_set,
    incident_resolve,
    mitigation_decide,
    overdue_updates_remind,
    settings_update,
    status_update_post,
    timeline_entry_add,
)
from releases.services import deployment_rollback

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(project, people):
    return incident_open(
        actor=people.alice,
        project=project,
        title="Payments time out",
        severity=2,
        impact="A third of card payments fail.",
        started_at=timezone.now() - timedelta(minutes=10),
        responders=[people.bob],
    )


def test_update__written_from_the_template_and_announced(incident, people):
    update = status_update_post(
        actor=people.bob,
        incident=incident,
        state="identified",
        actions_taken="Found the connection pool limit.",
        next_steps="Raise the limit.",
    )
    assert update.body.startswith("INCIDENT: Payments time out\nSTATUS: Identified")
    assert "IMPACT: A third of card payments fail." in update.body
    assert "Actions taken:\nFound the connection pool limit." in update.body
    assert "Next steps:\nRaise the limit." in update.body
    incident.refresh_from_db()
    assert incident.state == "identified"
    # The commander (alice) hears it in the app; the author does not.
    assert Notification.objects.filter(
        recipient=people.alice, subject__contains="Identified"
    ).exists()
    assert not Notification.objects.filter(
        recipient=people.bob, subject__contains="Identified"
    ).exists()


def test_update__project_template_is_used(project, incident, people):
    settings_update(
        actor=people.adam, project=project, status_template="[{status}] {title}: {next_steps}"
    )
    update = status_update_post(actor=people.bob, incident=incident, next_steps="Wait.")
    assert update.body == "[Investigating] Payments time out: Wait."


def test_template__unknown_placeholder_or_non_admin__refused(project, people):
    with pytest.raises(ValidationFailed, match="Unknown placeholders {owner}"):
        settings_update(actor=people.adam, project=project, status_template="{owner}")
    with pytest.raises(ValidationFailed, match="unpaired brace"):
        settings_update(actor=people.adam, project=project, status_template="{title")
    with pytest.raises(PermissionDenied):
        settings_update(actor=people.alice, project=project, update_interval_minutes=30)


def test_update__to_resolved_incident__refused(incident, people):
    incident_resolve(actor=people.alice, incident=incident)
    with pytest.raises(ValidationFailed, match="resolved; it takes no more updates"):
        status_update_post(actor=people.bob, incident=incident, actions_taken="More.")
    assert not StatusUpdate.objects.exists()


def test_update__auditor_refused(incident, people):
    with pytest.raises(PermissionDenied, match="auditor"):
        status_update_post(actor=people.aud, incident=incident, actions_taken="x")


def test_overdue__commander_reminded_once_per_interval(incident, people):
    now = timezone.now()
    assert overdue_updates_remind(now=now + timedelta(minutes=5)) == 0
    assert overdue_updates_remind(now=now + timedelta(minutes=21)) == 1
    assert overdue_updates_remind(now=now + timedelta(minutes=22)) == 0  # reminded already
    assert (
        Notification.objects.filter(
            recipient=people.alice, subject__startswith="Update overdue"
        ).count()
        == 1
    )
    assert overdue_updates_remind(now=now + timedelta(minutes=42)) == 1  # next interval
    status_update_post(actor=people.alice, incident=incident, actions_taken="Still on it.")
    assert overdue_updates_remind(now=timezone.now() + timedelta(minutes=10)) == 0
    assert AuditEvent.objects.filter(action="incident.update_overdue").count() == 2


def test_overdue__not_for_sev3_or_resolved(project, people, incident):
    incident_open(
        actor=people.alice,
        project=project,
        title="Slow search",
        severity=3,
        started_at=timezone.now() - timedelta(hours=2),
    )
    incident_resolve(actor=people.alice, incident=incident)
    assert overdue_updates_remind(now=timezone.now() + timedelta(hours=3)) == 0


def test_timeline__orders_automatic_and_personal_entries(project, people, incident, prod_deploy):
    deployment = prod_deploy("2.2.0", minutes_ago=5)
    deployment_rollback(deployment=deployment, actor=people.bob, reason="Errors up")
    timeline_entry_add(
        actor=people.bob,
        incident=incident,
        text="Paged the database team.",
        at=timezone.now() - timedelta(minutes=2),
    )
    status_update_post(actor=people.bob, incident=incident, actions_taken="Rolled back.")
    items = incident_timeline(incident)
    kinds = [(i.kind, i.automatic) for i in items]
    assert ("state", True) in kinds  # opened
    assert ("rollback", True) in kinds
    assert ("entry", False) in kinds
    assert ("update", False) in kinds
    assert [i.at for i in items] == sorted(i.at for i in items)


def test_people__outsider_as_responder__refused(incident, people):
    with pytest.raises(ValidationFailed, match="not a member: olga"):
        incident_people_set(actor=people.alice, incident=incident, responders=[people.olga])
    details = incident_people_set(
        actor=people.alice, incident=incident, commander=people.bob, responders=[people.quinn]
    )
    assert details.commander == people.bob
    assert list(details.responders.all()) == [people.quinn]


def test_mitigation__rollback_with_criteria(incident, people):
    details = mitigation_decide(
        actor=people.alice,
        incident=incident,
        decision="rollback",
        reason="Card payments fail.",
        criteria=["critical_broken", "thresholds"],
    )
    assert details.rollback_criteria == ["critical_broken", "thresholds"]
    with pytest.raises(ValidationFailed, match="Unknown rollback criteria: vibes"):
        mitigation_decide(
            actor=people.alice,
            incident=incident,
            decision="rollback",
            reason="x",
            criteria=["vibes"],
        )
    with pytest.raises(ValidationFailed, match="roll back or to fix forward"):
        mitigation_decide(actor=people.alice, incident=incident, decision="pray", reason="x")


def test_hotfix__created_through_releases_and_linked_as_rework(incident, people):
    release = hotfix_start(actor=people.alice, incident=incident, version="2.4.1")
    assert release.type == "hotfix" and release.project_id == incident.project_id
    incident.details.refresh_from_db()
    assert incident.details.hotfix_release == release
    assert incident.details.mitigation == "fix_forward"
    assert AuditEvent.objects.filter(action="release.created", release_id=release.pk).exists()
    with pytest.raises(ValidationFailed, match="hotfix release already"):
        hotfix_start(actor=people.alice, incident=incident, version="2.4.2")


def test_hotfix__engineer_without_release_rights_is_refused_by_releases(incident, people):
    with pytest.raises(PermissionDenied):
        hotfix_start(actor=people.quinn, incident=incident, version="2.4.1")
