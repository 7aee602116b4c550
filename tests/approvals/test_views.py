from datetime import timedelta

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from approvals.choices import ApprovalKind
from approvals.models import Approval, ApprovalPolicy, EmergencyReview, GoNoGoMeeting, MeetingVote
from approvals.panels import approvals_panel_context
from approvals.services import emergency_approve, meeting_schedule
from audit.models import AuditEvent
from projects.choices import Role
from releases.selectors import release_with_pipeline
from releases.services import release_create
from tests.approvals.conftest import approve, deploy, grant, reject
from tests.factories import UserFactory

HTMX = {"HTTP_HX_REQUEST": "true"}


def _login(client, user):
    client.force_login(user)
    return client


def _decide_url(release):
    return reverse("approvals:decide", args=[release.pk])


# --- The release page panel ------------------------------------------------------------


def test_release_page__shows_the_matrix_and_approve_buttons_to_approvers(
    client, staged, people, envs
):
    approve(staged, people.ada, environment=envs["production"])
    body = _login(client, people.abe).get(staged.get_absolute_url()).content.decode()
    assert 'id="approvals-panel"' in body
    assert "1 of 2 production approvals; eligible: Abe, Emma." in body
    assert 'id="decide-production-deployment-production"' in body
    assert "QA sign-off for staging missing." in body


def test_release_page__auditor_sees_no_buttons(client, staged, people):
    body = _login(client, people.aud).get(staged.get_absolute_url()).content.decode()
    assert 'id="approvals-panel"' in body
    assert "decide-form" not in body


def test_decide__htmx__answers_the_fragment_and_refreshes_the_page(client, staged, people, envs):
    response = _login(client, people.ada).post(
        _decide_url(staged),
        {"kind": "deployment", "environment": envs["production"].pk, "decision": "approve"},
        **HTMX,
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "releaseChanged"
    body = response.content.decode()
    assert body.lstrip().startswith("<link") and 'id="approvals-panel"' in body
    assert "You approved." in body
    assert Approval.objects.get().person == people.ada


def test_decide__reject_without_comment__shows_the_error_and_changes_nothing(
    client, staged, people
):
    response = _login(client, people.pat).post(
        _decide_url(staged), {"kind": "scope", "decision": "reject"}, **HTMX
    )
    assert response.status_code == 200
    assert "a rejection needs a comment" in response.content.decode()
    assert "HX-Trigger" not in response
    assert not Approval.objects.exists()


def test_decide__without_javascript__redirects_to_the_release(client, staged, people):
    response = _login(client, people.pat).post(
        _decide_url(staged), {"kind": "scope", "decision": "approve"}
    )
    assert response.status_code == 302
    assert response["Location"].endswith(f"/releases/{staged.pk}/#panel-approvals")


def test_decide__scope_with_no_tickets__asks_to_confirm_before_approving(client, staged, people):
    client = _login(client, people.pat)
    page = client.get(staged.get_absolute_url()).content.decode()
    assert "This release has no tickets: I approve an empty scope." in page

    refused = client.post(_decide_url(staged), {"kind": "scope", "decision": "approve"}, **HTMX)
    assert refused.status_code == 200
    assert "This release has no tickets." in refused.content.decode()
    assert not Approval.objects.exists()

    confirmed = client.post(
        _decide_url(staged),
        {"kind": "scope", "decision": "approve", "confirm_empty_scope": "1"},
        **HTMX,
    )
    assert "You approved." in confirmed.content.decode()
    assert Approval.objects.get().kind == ApprovalKind.SCOPE


def test_decide__scope_with_tickets__no_confirmation(client, staged, people):
    from releases.services import release_tickets_add

    release_tickets_add(release=staged, tickets=[{"key": "SHOP-1"}], actor=people.alice)
    client = _login(client, people.pat)
    assert "I approve an empty scope" not in client.get(staged.get_absolute_url()).content.decode()
    answer = client.post(_decide_url(staged), {"kind": "scope", "decision": "approve"}, **HTMX)
    assert "You approved." in answer.content.decode()


def test_decide__self_approval__403(client, project, people, envs):
    grant(project, people.ada, Role.ENGINEER)
    own = release_create(
        project=project,
        version="7.0.0",
        title="Own",
        actor=people.ada,
        release_manager=people.alice,
    )
    response = _login(client, people.ada).post(
        _decide_url(own),
        {"kind": "deployment", "environment": envs["production"].pk, "decision": "approve"},
        **HTMX,
    )
    assert response.status_code == 403
    assert not Approval.objects.exists()
    assert AuditEvent.objects.filter(action="approval.denied").count() == 1


def test_decide__outsider__404_and_denial_audited(client, staged, people, envs):
    response = _login(client, people.olga).post(
        _decide_url(staged), {"kind": "scope", "decision": "approve"}
    )
    assert response.status_code == 404
    assert AuditEvent.objects.filter(action="approval.denied", actor_label="olga").count() == 1


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"kind": "x", "decision": "approve"},
        {"kind": "deployment", "decision": "maybe"},
        {"kind": "deployment", "decision": "approve", "environment": "abc"},
        {"kind": "deployment", "decision": "approve", "environment": "99999"},
        {"kind": "scope", "decision": "approve", "comment": "\x00"},
    ],
)
def test_decide__malformed__never_500(client, staged, people, data):
    response = _login(client, people.ada).post(_decide_url(staged), data, **HTMX)
    assert response.status_code in (200, 403, 404)
    assert not Approval.objects.exists()


def test_withdraw__from_the_panel(client, staged, people, envs):
    approval = approve(staged, people.ada, environment=envs["production"])
    url = reverse("approvals:withdraw", args=[staged.pk, approval.pk])
    response = _login(client, people.ada).post(url, {}, **HTMX)
    assert response.status_code == 200
    approval.refresh_from_db()
    assert approval.state == "withdrawn"


def test_request__from_the_panel(client, staged, people, envs):
    reject(staged, people.abe, "Not now.", environment=envs["production"])
    url = reverse("approvals:request", args=[staged.pk])
    response = _login(client, people.alice).post(
        url, {"kind": "deployment", "environment": envs["production"].pk}, **HTMX
    )
    assert response.status_code == 200
    assert Approval.objects.get().state == "superseded"


def test_panel_context__query_count_does_not_grow_with_approvals(rf, staged, people, envs, project):
    def count():
        reader = type(people.aud).objects.get(pk=people.aud.pk)  # no roles cached yet
        release = release_with_pipeline(user=reader, pk=staged.pk)
        request = rf.get("/")
        request.user = type(people.aud).objects.get(pk=people.aud.pk)
        with CaptureQueriesContext(connection) as ctx:
            approvals_panel_context(release, request)
        return len(ctx.captured_queries)

    approve(staged, people.ada, environment=envs["production"])
    few = count()
    for n in range(6):
        approver = grant(project, UserFactory(username=f"approver{n}"), Role.APPROVER)
        approve(staged, approver, environment=envs["production"])
    approve(staged, people.quinn, ApprovalKind.QA_SIGNOFF, envs["staging"])
    approve(staged, people.pat, ApprovalKind.SCOPE)
    assert count() == few <= 9


@pytest.fixture
def rf():
    return RequestFactory()


def test_release_approvals_page__works_without_javascript(client, staged, people):
    response = _login(client, people.aud).get(reverse("approvals:release", args=[staged.pk]))
    assert response.status_code == 200
    assert "Approvals and go/no-go of 2.4.0" in response.content.decode()
    assert (
        _login(client, people.olga).get(reverse("approvals:release", args=[staged.pk])).status_code
        == 404
    )


# --- The emergency path on the page --------------------------------------------------------


def test_panel__emergency_release_is_loud_and_shows_an_overdue_review(
    client, project, people, envs, only_approval_gates
):
    hotfix = release_create(
        project=project, version="2.3.5", title="Fix", actor=people.alice, type="hotfix"
    )
    deploy(hotfix, envs["dev"], people.bob)
    emergency_approve(
        release=hotfix,
        environment=envs["production"],
        actor=people.emma,
        justification="Card payments fail.",
    )
    EmergencyReview.objects.update(due_at=timezone.now() - timedelta(hours=2))
    body = _login(client, people.alice).get(hotfix.get_absolute_url()).content.decode()
    assert "⚡ Emergency release" in body
    assert "Card payments fail." in body
    assert "OVERDUE" in body
    assert "Record the review" in body
    inbox = _login(client, people.alice).get(reverse("approvals:inbox")).content.decode()
    assert "Post-implementation review OVERDUE" in inbox


def test_emergency_form__for_emergency_approvers_only(
    client, project, people, envs, only_approval_gates
):
    hotfix = release_create(
        project=project, version="2.3.6", title="Fix", actor=people.alice, type="hotfix"
    )
    assert (
        "Give the emergency approval"
        in _login(client, people.emma).get(hotfix.get_absolute_url()).content.decode()
    )
    assert (
        "Give the emergency approval"
        not in _login(client, people.ada).get(hotfix.get_absolute_url()).content.decode()
    )
    url = reverse("approvals:emergency", args=[hotfix.pk])
    response = _login(client, people.ada).post(
        url, {"environment": envs["production"].pk, "justification": "Please"}, **HTMX
    )
    assert response.status_code == 403
    response = _login(client, people.emma).post(
        url, {"environment": envs["production"].pk, "justification": "Payments down."}, **HTMX
    )
    assert response.status_code == 200
    hotfix.refresh_from_db()
    assert hotfix.is_emergency


# --- Waiting for me -------------------------------------------------------------------------


def test_inbox__lists_what_waits_for_me_and_forgets_it_when_done(client, staged, people, envs):
    body = _login(client, people.ada).get(reverse("approvals:inbox")).content.decode()
    assert "2 deployment approvals for Production" in body
    approve(staged, people.ada, environment=envs["production"])
    body = _login(client, people.ada).get(reverse("approvals:inbox")).content.decode()
    assert "2 deployment approvals for Production" not in body
    body = _login(client, people.quinn).get(reverse("approvals:inbox")).content.decode()
    assert "QA sign-off of Staging" in body


def test_inbox__outsider_sees_nothing(client, staged, people):
    body = _login(client, people.olga).get(reverse("approvals:inbox")).content.decode()
    assert "Nothing is waiting for you" in body


def test_inbox__query_count_is_fixed(
    client, staged, people, project, django_assert_max_num_queries
):
    for n in range(5):
        release_create(project=project, version=f"5.{n}.0", title=f"R{n}", actor=people.alice)
    _login(client, people.ada)
    with django_assert_max_num_queries(25):
        response = client.get(reverse("approvals:inbox"), **HTMX)
    assert response.status_code == 200


# --- Policies --------------------------------------------------------------------------------


def test_policies__admin_edits_and_it_is_audited(client, project, people, envs):
    url = reverse("approvals:policies", args=[project.slug])
    assert 'name="required_approvals"' in _login(client, people.adam).get(url).content.decode()
    response = client.post(
        url,
        {
            "environment": envs["staging"].pk,
            "required_approvals": "1",
            "approver_roles": ["approver"],
            "requires_qa_signoff": "on",
        },
    )
    assert response.status_code == 302
    policy = ApprovalPolicy.objects.get(environment=envs["staging"])
    assert policy.required_approvals == 1 and policy.requires_qa_signoff
    assert AuditEvent.objects.filter(action="approval_policy.updated").count() == 1


def test_policies__bad_value__shows_the_error(client, project, people, envs):
    url = reverse("approvals:policies", args=[project.slug])
    response = _login(client, people.adam).post(
        url, {"environment": envs["dev"].pk, "required_approvals": "0", "requires_qa_signoff": "on"}
    )
    assert response.status_code == 200
    assert "first environment" in response.content.decode()
    response = client.post(url, {"environment": envs["dev"].pk, "required_approvals": "50"})
    assert response.status_code == 200
    assert not ApprovalPolicy.objects.exists()


def test_policies__read_only_for_members_403_on_post_404_for_outsiders(
    client, project, people, envs
):
    url = reverse("approvals:policies", args=[project.slug])
    body = _login(client, people.ada).get(url).content.decode()
    assert 'name="required_approvals"' not in body and "Deployment approvals" in body
    assert (
        client.post(url, {"environment": envs["dev"].pk, "required_approvals": "1"}).status_code
        == 403
    )
    assert _login(client, people.olga).get(url).status_code == 404


# --- Go/no-go meetings -----------------------------------------------------------------------


def test_schedule__release_manager_only(client, staged, people, envs):
    url = reverse("approvals:meeting-new", args=[staged.pk])
    assert _login(client, people.ada).get(url).status_code == 403
    assert _login(client, people.alice).get(url).status_code == 200
    when = (timezone.localtime() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        url,
        {
            "environment": envs["production"].pk,
            "scheduled_for": when,
            "attendees": [str(people.ada.pk), str(people.quinn.pk)],
        },
    )
    meeting = GoNoGoMeeting.objects.get()
    assert response.status_code == 302 and response["Location"] == meeting.get_absolute_url()
    assert {a.person.username for a in meeting.attendees.all()} == {"alice", "ada", "quinn"}
    assert meeting.agenda.count() == 6


@pytest.fixture
def meeting(cleared, people, envs):
    return meeting_schedule(
        release=cleared,
        environment=envs["production"],
        scheduled_for=timezone.now(),
        actor=people.alice,
    )


def test_meeting_page__agenda_and_criteria_filled_in(client, meeting, people):
    body = _login(client, people.ada).get(meeting.get_absolute_url()).content.decode()
    for title in (
        "Walk through the release checklist",
        "Go over the test results",
        "Known issues",
        "Decide: go or no-go",
    ):
        assert title in body
    assert "A rollback plan is written." in body
    assert "No test results are recorded for this release." in body
    assert "2 of 2 production approvals (Ada, Abe)." in body
    assert 'id="vote-form"' in body


def test_meeting__vote_live_and_refused_to_non_attendees(client, meeting, people):
    url = reverse("approvals:meeting-vote", args=[meeting.pk])
    response = _login(client, people.ada).post(url, {"vote": "go", "comment": "Looks fine"}, **HTMX)
    assert response.status_code == 200
    assert 'id="meeting-board"' in response.content.decode()
    assert "Looks fine" in response.content.decode()
    board = client.get(meeting.get_absolute_url() + "?part=board", **HTMX).content.decode()
    assert board.lstrip().startswith("{#") is False and 'id="meeting-board"' in board
    assert _login(client, people.aud).post(url, {"vote": "go"}, **HTMX).status_code == 403
    assert _login(client, people.olga).post(url, {"vote": "go"}, **HTMX).status_code == 404
    assert MeetingVote.objects.count() == 1
    assert AuditEvent.objects.filter(action="approval.denied").count() == 2


def test_meeting__no_go_vote_needs_a_comment(client, meeting, people):
    url = reverse("approvals:meeting-vote", args=[meeting.pk])
    response = _login(client, people.ada).post(url, {"vote": "no_go"}, **HTMX)
    assert "a no-go vote needs a comment" in response.content.decode()
    assert not MeetingVote.objects.exists()


def test_meeting__raised_trigger_blocks_go_then_decide(client, meeting, people, staged=None):
    trigger = meeting.criteria.filter(kind="no_go_trigger").first()
    crit_url = reverse("approvals:meeting-criterion", args=[meeting.pk, trigger.pk])
    _login(client, people.quinn).post(crit_url, {"checked": "yes"}, **HTMX)
    decide_url = reverse("approvals:meeting-decide", args=[meeting.pk])
    response = _login(client, people.alice).post(
        decide_url, {"decision": "go", "reason": "Ship"}, **HTMX
    )
    assert "A no-go trigger is raised" in response.content.decode()
    client.post(crit_url, {"checked": "no"}, **HTMX)
    response = client.post(decide_url, {"decision": "go", "reason": "Ship it."}, **HTMX)
    assert response.status_code == 200
    meeting.refresh_from_db()
    assert meeting.decision == "go" and meeting.decided_version == "2.4.0"
    minutes = client.get(reverse("approvals:minutes", args=[meeting.pk])).content.decode()
    assert "GO</strong>, decided by Alice" in minutes
    assert "css/approvals.css" in minutes


def test_meeting__decide__the_answer_shows_in_the_decision_card(client, meeting, people):
    """Where the release manager pressed the button, not at the top of a long page."""
    import re

    decide_url = reverse("approvals:meeting-decide", args=[meeting.pk])
    client = _login(client, people.alice)
    refused = client.post(decide_url, {"decision": "go", "reason": ""}, **HTMX).content.decode()
    card = re.search(r'<section class="card decide-card" id="decision".*?</section>', refused, re.S)
    assert card and "Nothing changed." in card.group(0)
    assert refused.count("Nothing changed.") == 1
    decided = client.post(decide_url, {"decision": "go", "reason": "Ship it."}, **HTMX)
    card = re.search(
        r'<section class="card decision-card[^"]*" id="decision".*?</section>',
        decided.content.decode(),
        re.S,
    )
    assert card and "The decision is recorded." in card.group(0)
    plain = client.post(decide_url, {"decision": "go", "reason": "Again."})
    assert plain["Location"].endswith("#decision")


def test_meeting__only_release_managers_decide(client, meeting, people):
    url = reverse("approvals:meeting-decide", args=[meeting.pk])
    assert (
        _login(client, people.ada).post(url, {"decision": "go", "reason": "x"}, **HTMX).status_code
        == 403
    )
    assert GoNoGoMeeting.objects.get().status == "scheduled"


def test_meeting__notes_saved(client, meeting, people):
    item = meeting.agenda.get(key="risks")
    url = reverse("approvals:meeting-notes", args=[meeting.pk, item.pk])
    response = _login(client, people.quinn).post(url, {"notes": "Peak traffic on Friday."}, **HTMX)
    assert response.status_code == 200
    item.refresh_from_db()
    assert item.notes == "Peak traffic on Friday."
    assert _login(client, people.olga).post(url, {"notes": "x"}, **HTMX).status_code == 404


def test_meeting__outsider_404(client, meeting, people):
    assert _login(client, people.olga).get(meeting.get_absolute_url()).status_code == 404
    assert client.get(reverse("approvals:minutes", args=[meeting.pk])).status_code == 404
