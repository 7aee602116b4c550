import pytest
from django.utils import timezone

from approvals.exceptions import (
    CommentRequired,
    NoGoTriggerRaised,
    NotAnAttendee,
    PeopleOnly,
    ReleaseClosed,
)
from approvals.models import MeetingCriterion, MeetingVote
from approvals.selectors import meeting_auto_criteria
from approvals.services import (
    meeting_attendee_add,
    meeting_cancel,
    meeting_criterion_add,
    meeting_criterion_set,
    meeting_decide,
    meeting_schedule,
    meeting_vote,
)
from audit.models import AuditEvent
from core.exceptions import PermissionDenied, TransitionNotAllowed, ValidationFailed
from core.models import Notification
from projects.choices import TokenScope
from projects.principals import TokenPrincipal
from projects.services import api_token_create
from releases import models as release_models
from releases.gates import gate_evaluate
from releases.services import release_cancel, release_update


def _gate(release, environment):
    return next(
        g
        for g in gate_evaluate(release=release, environment=environment).gates
        if g.code == "go_no_go"
    )


@pytest.fixture
def meeting(cleared, people, envs):
    return meeting_schedule(
        release=cleared,
        environment=envs["production"],
        scheduled_for=timezone.now(),
        actor=people.alice,
    )


def test_schedule__invites_by_role_with_agenda_criteria_and_triggers(meeting, people):
    seats = {a.person.username: a.seat for a in meeting.attendees.all()}
    assert seats == {
        "alice": "release_manager",
        "ada": "tech_lead",
        "abe": "tech_lead",
        "emma": "tech_lead",
        "quinn": "qa_lead",
        "pat": "product_owner",
        "bob": "operations",
    }
    assert [i.key for i in meeting.agenda.all()] == [
        "checklist",
        "tests",
        "security",
        "known_issues",
        "risks",
        "decision",
    ]
    assert meeting.criteria.filter(kind="go").exclude(auto_key="").count() == 5
    assert meeting.criteria.filter(kind="no_go_trigger").count() == 5
    invited = set(
        Notification.objects.filter(subject__startswith="Go/no-go").values_list(
            "recipient__username", flat=True
        )
    )
    assert invited == {"ada", "abe", "emma", "quinn", "pat", "bob"}


def test_schedule__security_sensitive_adds_a_security_seat(cleared, people, envs):
    meeting = meeting_schedule(
        release=cleared,
        environment=envs["production"],
        scheduled_for=timezone.now(),
        actor=people.alice,
        security_sensitive=True,
    )
    assert meeting.attendees.get(seat="security").person == people.adam


def test_schedule__twice_for_the_same_environment__is_refused(meeting, cleared, people, envs):
    with pytest.raises(TransitionNotAllowed):
        meeting_schedule(
            release=cleared,
            environment=envs["production"],
            scheduled_for=timezone.now(),
            actor=people.alice,
        )


def test_schedule__only_release_managers(cleared, people, envs):
    with pytest.raises(PermissionDenied):
        meeting_schedule(
            release=cleared,
            environment=envs["production"],
            scheduled_for=timezone.now(),
            actor=people.ada,
        )


def test_vote__non_attendee__refused_and_audited(meeting, people):
    with pytest.raises(NotAnAttendee):
        meeting_vote(meeting=meeting, vote="go", actor=people.aud)
    assert not MeetingVote.objects.exists()
    assert AuditEvent.objects.filter(action="approval.denied", actor_label="aud").count() == 1


def test_vote__token__refused(meeting, people, project):
    token, _ = api_token_create(
        project=project, name="ci", scopes=[TokenScope.READ], actor=people.adam
    )
    with pytest.raises(PeopleOnly):
        meeting_vote(meeting=meeting, vote="go", actor=TokenPrincipal(token))


def test_vote__no_go_needs_a_comment_and_votes_can_change(meeting, people):
    with pytest.raises(CommentRequired):
        meeting_vote(meeting=meeting, vote="no_go", actor=people.quinn)
    meeting_vote(meeting=meeting, vote="no_go", actor=people.quinn, comment="Flaky payment test.")
    meeting_vote(meeting=meeting, vote="go", actor=people.quinn, comment="Fixed and rerun.")
    meeting_vote(meeting=meeting, vote="go", actor=people.quinn, comment="Fixed and rerun.")
    assert MeetingVote.objects.get().vote == "go"
    assert AuditEvent.objects.filter(action="meeting.vote_cast").count() == 2


def test_invited_later__may_vote(meeting, people):
    meeting_attendee_add(meeting=meeting, person=people.aud, seat="guest", actor=people.alice)
    meeting_vote(meeting=meeting, vote="abstain", actor=people.aud)
    assert MeetingVote.objects.get().person == people.aud


def test_auto_criteria__follow_the_release(meeting, cleared):
    auto = meeting_auto_criteria(meeting)
    assert auto["rollback_plan"] == (True, "A rollback plan is written.")
    assert auto["approvals"][0] is True
    assert auto["tests"] == (False, "No test results are recorded for this release.")
    release_models.TestRun.objects.create(release=cleared, name="unit", total=120)
    release_models.TestRun.objects.create(release=cleared, name="e2e", total=30, failures=2)
    assert meeting_auto_criteria(meeting)["tests"] == (False, "Failing: e2e (2 failed).")
    release_models.TestRun.objects.create(release=cleared, name="e2e", total=30)
    assert meeting_auto_criteria(meeting)["tests"] == (True, "2 suites, 150 tests, all passing.")


def test_auto_criteria__cannot_be_set_by_hand(meeting, people):
    auto = meeting.criteria.exclude(auto_key="").first()
    with pytest.raises(ValidationFailed):
        meeting_criterion_set(criterion=auto, checked=True, actor=people.alice)


def test_decide__go_is_refused_while_a_trigger_is_raised(meeting, people):
    trigger = meeting.criteria.filter(kind="no_go_trigger").first()
    meeting_criterion_set(criterion=trigger, checked=True, actor=people.quinn, note="Found one.")
    with pytest.raises(NoGoTriggerRaised):
        meeting_decide(meeting=meeting, decision="go", reason="Ship", actor=people.alice)
    decided = meeting_decide(
        meeting=meeting, decision="no_go", reason="Critical bug.", actor=people.alice
    )
    assert decided.decision == "no_go"
    assert (
        _gate(meeting.release, meeting.environment).reason
        == "Go/no-go decided no-go (Alice): Critical bug."
    )


def test_decide__needs_a_reason_and_a_release_manager(meeting, people):
    with pytest.raises(CommentRequired):
        meeting_decide(meeting=meeting, decision="go", reason=" ", actor=people.alice)
    with pytest.raises(PermissionDenied):
        meeting_decide(meeting=meeting, decision="go", reason="Yes", actor=people.ada)


def test_decide__on_a_cancelled_release__is_refused(meeting, people, cleared):
    release_cancel(release=cleared, actor=people.alice, reason="Replaced by 2.5.0.")
    with pytest.raises(ReleaseClosed):
        meeting_decide(meeting=meeting, decision="go", reason="Yes", actor=people.alice)
    with pytest.raises(ReleaseClosed):
        meeting_vote(meeting=meeting, vote="go", actor=people.ada)


def test_go__holds_for_that_version_only(meeting, people, cleared, envs):
    meeting_decide(meeting=meeting, decision="go", reason="Ready.", actor=people.alice)
    assert _gate(cleared, envs["production"]).state == "open"
    frozen = MeetingCriterion.objects.get(meeting=meeting, auto_key="rollback_plan")
    assert frozen.checked is True and frozen.note == "A rollback plan is written."
    changed = release_update(release=cleared, actor=people.alice, version="2.4.1")
    gate = _gate(changed, envs["production"])
    assert gate.state == "closed"
    assert (
        gate.reason == "The go was given for 2.4.0, not for the release as it is now; decide again."
    )


def test_decided_meeting__cannot_change(meeting, people):
    meeting_decide(meeting=meeting, decision="go", reason="Ready.", actor=people.alice)
    with pytest.raises(TransitionNotAllowed):
        meeting_vote(meeting=meeting, vote="go", actor=people.ada)
    with pytest.raises(TransitionNotAllowed):
        meeting_criterion_add(meeting=meeting, kind="go", title="Late", actor=people.alice)
    with pytest.raises(TransitionNotAllowed):
        meeting_cancel(meeting=meeting, actor=people.alice, reason="Oops")
