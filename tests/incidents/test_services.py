"""The incident services other apps build on: open, resolve, escaped defects."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from core.exceptions import PermissionDenied, TransitionNotAllowed, ValidationFailed
from incidents.models import EscapedDefect, Incident, PostMortem
from incidents.services import (
    escaped_defect_record,
    incident_open,
    incident_resolve,
    incident_transition,
)
from projects.models import ApiToken
from projects.principals import TokenPrincipal
from tests.factories import DeploymentFactory, ReleaseFactory

pytestmark = pytest.mark.django_db


def _open(actor, project, **kw):
    kw.setdefault("title", "Checkout answers 500")
    kw.setdefault("severity", 2)
    kw.setdefault("started_at", timezone.now() - timedelta(minutes=30))
    return incident_open(actor=actor, project=project, **kw)


def test_open__proposes_last_production_deployment_before_start(project, people, prod_deploy):
    prod_deploy("2.1.0", minutes_ago=300)
    cause = prod_deploy("2.2.0", minutes_ago=60)
    prod_deploy("2.3.0", minutes_ago=5)  # after the start: not the cause
    prod_deploy("2.2.5", minutes_ago=40, env="staging")  # not production

    incident = _open(people.bob, project, started_at=timezone.now() - timedelta(minutes=30))

    assert incident.cause_deployment == cause
    assert incident.cause_release == cause.release
    assert incident.details.cause_proposed is True
    assert incident.details.commander == people.bob
    assert incident.environment == cause.environment
    event = AuditEvent.objects.get(action="incident.opened")
    assert event.data["cause_proposed"] is True and event.release_id == cause.release_id


def test_open__chosen_cause_is_kept_and_not_marked_proposed(project, people, prod_deploy):
    chosen = prod_deploy("2.1.0", minutes_ago=300)
    prod_deploy("2.2.0", minutes_ago=60)
    incident = _open(people.alice, project, cause_deployment=chosen, severity="SEV1")
    assert incident.cause_deployment == chosen
    assert incident.details.cause_proposed is False
    assert incident.severity == 1


def test_open__cause_from_another_project__refused(project, other_project, people):
    foreign = DeploymentFactory(release=ReleaseFactory(project=other_project))
    with pytest.raises(ValidationFailed, match="another project"):
        _open(people.alice, project, cause_deployment=foreign)
    assert not Incident.objects.exists()


def test_open__responder_outside_project__refused(project, people):
    with pytest.raises(ValidationFailed, match="not a member: olga"):
        _open(people.alice, project, responders=[people.bob, people.olga])
    assert not Incident.objects.exists()


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"title": " "}, "title"),
        ({"severity": "SEV7"}, "SEV1, SEV2, SEV3 or SEV4"),
        ({"started_at": timezone.now() + timedelta(days=1)}, "future"),
        (
            {
                "started_at": timezone.now() - timedelta(minutes=5),
                "detected_at": timezone.now() - timedelta(minutes=50),
            },
            "detected before it started",
        ),
    ],
)
def test_open__bad_input__refused_and_nothing_written(project, people, kw, message):
    with pytest.raises(ValidationFailed, match=message):
        _open(people.alice, project, **kw)
    assert not Incident.objects.exists()
    assert not AuditEvent.objects.filter(action="incident.opened").exists()


def test_open__auditor_and_outsider__refused(project, people):
    with pytest.raises(PermissionDenied, match="auditor"):
        _open(people.aud, project)
    with pytest.raises(PermissionDenied):
        _open(people.olga, project)
    assert not Incident.objects.exists()


def test_open__alerting_token_with_deployments_scope(project, people):
    token = ApiToken.objects.create(
        project=project, name="pager", prefix="pg1", key_hash="x" * 64, scopes=["deployments"]
    )
    incident = _open(TokenPrincipal(token), project)
    assert incident.created_by is None
    assert AuditEvent.objects.get(action="incident.opened").actor_label == "token:pager"
    reader = ApiToken.objects.create(
        project=project, name="ro", prefix="ro1", key_hash="y" * 64, scopes=["read"]
    )
    with pytest.raises(PermissionDenied, match="deployments"):
        _open(TokenPrincipal(reader), project)


def test_state_machine__forward_back_and_resolved_is_final(project, people):
    incident = _open(people.alice, project)
    incident = incident_transition(actor=people.bob, incident=incident, to_state="identified")
    incident = incident_transition(actor=people.bob, incident=incident, to_state="monitoring")
    incident = incident_transition(actor=people.bob, incident=incident, to_state="investigating")
    incident = incident_resolve(actor=people.bob, incident=incident)
    assert incident.state == "resolved" and incident.resolved_at is not None
    with pytest.raises(ValidationFailed, match="resolved"):
        incident_transition(actor=people.bob, incident=incident, to_state="monitoring")
    with pytest.raises(ValidationFailed, match="resolved"):
        incident_resolve(actor=people.bob, incident=incident)
    states = list(
        AuditEvent.objects.filter(object_type="incidents.incident")
        .order_by("seq")
        .values_list("to_state", flat=True)
    )
    assert states == ["investigating", "identified", "monitoring", "investigating", "resolved"]


def test_transition__unknown_state__refused(project, people):
    incident = _open(people.alice, project)
    with pytest.raises(ValidationFailed, match="State must be"):
        incident_transition(actor=people.bob, incident=incident, to_state="fixed")


def test_transition_map_refuses_unlisted_moves():
    from core.transitions import transition_check
    from incidents.choices import INCIDENT_TRANSITIONS, IncidentState

    with pytest.raises(TransitionNotAllowed, match="resolved cannot become investigating"):
        transition_check(
            transitions=INCIDENT_TRANSITIONS,
            choices=IncidentState,
            noun="incident",
            from_state="resolved",
            to_state="investigating",
        )


def test_resolve__before_start__refused(project, people):
    incident = _open(people.alice, project, started_at=timezone.now() - timedelta(hours=1))
    with pytest.raises(ValidationFailed, match="resolved before it started"):
        incident_resolve(
            actor=people.alice, incident=incident, resolved_at=timezone.now() - timedelta(hours=2)
        )
    incident.refresh_from_db()
    assert incident.state == "investigating" and incident.resolved_at is None


def test_resolve__severe_incident_gets_postmortem_draft(project, people):
    sev2 = incident_resolve(actor=people.alice, incident=_open(people.alice, project, severity=2))
    sev3 = incident_resolve(actor=people.alice, incident=_open(people.alice, project, severity=3))
    assert PostMortem.objects.get(incident=sev2).state == "draft"
    assert not PostMortem.objects.filter(incident=sev3).exists()


def test_escaped_defect__recorded_by_qa_on_its_release(project, people, release):
    ticket = release.tickets.create(key="PAY-12", title="Refunds")
    defect = escaped_defect_record(
        actor=people.quinn,
        release=release,
        key="PAY-12",
        severity="SEV3",
        found_at=timezone.now(),
        title="Refund rounding",
        ticket=ticket,
    )
    assert defect.release == release and defect.ticket == ticket and defect.severity == 3
    assert AuditEvent.objects.filter(
        action="escaped_defect.recorded", release_id=release.pk
    ).exists()


def test_escaped_defect__ticket_of_another_release_or_outsider__refused(project, people, release):
    other = ReleaseFactory(project=project, release_manager=people.alice)
    foreign_ticket = other.tickets.create(key="PAY-9")
    with pytest.raises(ValidationFailed, match="not in release"):
        escaped_defect_record(
            actor=people.quinn,
            release=release,
            key="PAY-9",
            severity=3,
            found_at=timezone.now(),
            ticket=foreign_ticket,
        )
    with pytest.raises(PermissionDenied):
        escaped_defect_record(
            actor=people.olga, release=release, key="X-1", severity=3, found_at=timezone.now()
        )
    assert not EscapedDefect.objects.exists()
