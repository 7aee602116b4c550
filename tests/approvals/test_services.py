from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from approvals.choices import ApprovalKind, ApprovalState, Decision
from approvals.exceptions import (
    AlreadyDecided,
    CommentRequired,
    OutsiderDenied,
    PeopleOnly,
    ReleaseClosed,
    RoleNotHeld,
    SelfApprovalError,
    SeparationOfDutiesError,
)
from approvals.models import Approval, ApprovalPolicy, EmergencyReview
from approvals.services import (
    approval_policy_update,
    approval_request,
    approval_withdraw,
    emergency_approve,
    emergency_review_complete,
    emergency_reviews_overdue_notify,
)
from audit.models import AuditEvent
from core.exceptions import NotFound, PermissionDenied, TransitionNotAllowed, ValidationFailed
from core.models import Notification
from projects.choices import Role, TokenScope
from projects.principals import TokenPrincipal
from projects.services import api_token_create
from releases.choices import ReleaseType
from releases.exceptions import GateBlocked
from releases.gates import gate_evaluate
from releases.models import Deployment, Release
from releases.services import (
    release_cancel,
    release_create,
    release_promote,
    release_tickets_add,
    release_update,
)
from tests.approvals.conftest import approve, deploy, grant, reject


def _gates(release, environment):
    return {g.code: g for g in gate_evaluate(release=release, environment=environment).gates}


def _denials():
    return list(AuditEvent.objects.filter(action="approval.denied").order_by("seq"))


# --- The gates' sentences --------------------------------------------------------------


def test_production_gates__say_what_is_missing(staged, envs, people):
    approve(staged, people.ada, environment=envs["production"])
    gates = _gates(staged, envs["production"])
    assert gates["qa_signoff"].reason == "QA sign-off for staging missing."
    assert gates["scope_approval"].reason == "Scope not approved by the product owner."
    assert (
        gates["deployment_approvals"].reason == "1 of 2 production approvals; eligible: Abe, Emma."
    )
    assert gates["go_no_go"].reason == "Go/no-go not decided."
    assert all(
        gates[c].state == "closed" for c in ("qa_signoff", "scope_approval", "deployment_approvals")
    )


def test_staging__asks_for_nothing_by_default(release, envs, people, only_approval_gates):
    deploy(release, envs["dev"], people.bob)
    codes = set(_gates(release, envs["staging"]))
    assert not codes & {"qa_signoff", "scope_approval", "deployment_approvals", "go_no_go"}


def test_two_approvals__open_the_deployment_gate_once(cleared, envs, people):
    gates = _gates(cleared, envs["production"])
    assert gates["deployment_approvals"].state == "open"
    assert gates["deployment_approvals"].reason == "2 of 2 production approvals (Ada, Abe)."
    assert gates["qa_signoff"].state == "open"
    assert gates["scope_approval"].state == "open"
    opened = AuditEvent.objects.filter(
        action="approvals.gate_opened", data__gate="deployment_approvals"
    )
    assert opened.count() == 1


# --- Who may decide ---------------------------------------------------------------------


def test_approve__author__is_refused_as_self_approval(project, envs, people, only_approval_gates):
    grant(project, people.ada, Role.ENGINEER)
    own = release_create(
        project=project,
        version="3.0.0",
        title="Ada's own",
        actor=people.ada,
        release_manager=people.alice,
        rollback_plan="Redeploy.",
    )
    with pytest.raises(SelfApprovalError):
        approve(own, people.ada, environment=envs["production"])
    assert not Approval.objects.exists()
    [denial] = _denials()
    assert denial.actor_label == "ada"
    assert denial.release_id == own.pk
    assert denial.data["error"] == "self_approval"


def test_approve__release_manager__is_refused(envs, people, project):
    bobs = release_create(
        project=project,
        version="3.1.0",
        title="Bob's",
        actor=people.bob,
        release_manager=people.alice,
    )
    grant(project, people.alice, Role.APPROVER)
    with pytest.raises(SeparationOfDutiesError, match="release manager"):
        approve(bobs, people.alice, environment=envs["production"])
    assert not Approval.objects.exists()
    assert len(_denials()) == 1


def test_approve__deployer__is_refused(staged, envs, people, project):
    grant(project, people.bob, Role.APPROVER)
    with pytest.raises(SeparationOfDutiesError, match="deployed this release"):
        approve(staged, people.bob, environment=envs["production"])
    assert not Approval.objects.exists()


def test_approval_given_before_deploying__stops_counting(
    release, envs, people, project, only_approval_gates
):
    grant(project, people.ada, Role.ENGINEER)
    approve(release, people.ada, environment=envs["production"])
    deploy(release, envs["dev"], people.ada)
    reason = _gates(release, envs["production"])["deployment_approvals"].reason
    assert reason.startswith("0 of 2 production approvals")
    assert "Ada (deployed the release)" in reason


def test_approver__may_not_carry_out_the_deployment_they_approved(cleared, envs, people, project):
    grant(project, people.ada, Role.ENGINEER)
    from approvals.services import meeting_decide, meeting_schedule

    meeting = meeting_schedule(
        release=cleared,
        environment=envs["production"],
        scheduled_for=timezone.now(),
        actor=people.alice,
    )
    meeting_decide(meeting=meeting, decision="go", reason="All good.", actor=people.alice)
    with pytest.raises(SeparationOfDutiesError):
        release_promote(release=cleared, environment=envs["production"], actor=people.ada)
    assert not Deployment.objects.filter(environment=envs["production"]).exists()
    deployment = release_promote(release=cleared, environment=envs["production"], actor=people.bob)
    assert deployment.status == "in_progress"


def test_approve__wrong_role__is_refused(staged, envs, people):
    with pytest.raises(RoleNotHeld, match="approver"):
        approve(staged, people.quinn, environment=envs["production"])
    with pytest.raises(RoleNotHeld, match="do not hold the QA role"):
        approve(staged, people.ada, ApprovalKind.QA_SIGNOFF, envs["staging"], role=Role.QA)
    with pytest.raises(RoleNotHeld):
        approve(staged, people.pat, ApprovalKind.QA_SIGNOFF, envs["staging"])
    assert not Approval.objects.exists()
    assert [d.data["error"] for d in _denials()] == ["role_not_held"] * 3


def test_approve__role_held_but_not_eligible_for_the_kind__is_refused(staged, envs, people):
    with pytest.raises(RoleNotHeld, match="cannot be given as emergency approver"):
        approve(
            staged,
            people.emma,
            ApprovalKind.QA_SIGNOFF,
            envs["staging"],
            role=Role.EMERGENCY_APPROVER,
        )


def test_approve__person_with_two_roles__counts_once(staged, envs, people):
    first = approve(staged, people.emma, environment=envs["production"], role=Role.APPROVER)
    again = approve(
        staged, people.emma, environment=envs["production"], role=Role.EMERGENCY_APPROVER
    )
    assert again.pk == first.pk
    assert Approval.objects.count() == 1
    assert AuditEvent.objects.filter(action="approval.approved").count() == 1
    assert _gates(staged, envs["production"])["deployment_approvals"].reason.startswith("1 of 2")


def test_approve__outsider__gets_not_found_and_a_denial_event(staged, envs, people):
    with pytest.raises(NotFound):
        approve(staged, people.olga, environment=envs["production"])
    assert not Approval.objects.exists()
    [denial] = _denials()
    assert denial.actor_label == "olga"
    assert isinstance(OutsiderDenied("x"), NotFound)


def test_approve__api_token__is_refused(staged, envs, people, project):
    token, _ = api_token_create(
        project=project,
        name="ci",
        scopes=[TokenScope.RELEASES, TokenScope.DEPLOYMENTS],
        actor=people.adam,
    )
    with pytest.raises(PeopleOnly):
        approve(staged, TokenPrincipal(token), environment=envs["production"])
    assert not Approval.objects.exists()
    [denial] = _denials()
    assert denial.actor_kind == "token"


def test_reject__without_comment__is_refused_and_changes_nothing(staged, envs, people):
    before = AuditEvent.objects.count()
    with pytest.raises(CommentRequired):
        reject(staged, people.ada, "   ", environment=envs["production"])
    assert not Approval.objects.exists()
    assert AuditEvent.objects.count() == before


def test_qa_signoff__before_the_environment_ran_the_release__is_refused(release, envs, people):
    with pytest.raises(TransitionNotAllowed, match="only after"):
        approve(release, people.quinn, ApprovalKind.QA_SIGNOFF, envs["staging"])


def test_decision__on_a_cancelled_release__is_refused(release, envs, people):
    release_cancel(release=release, actor=people.alice, reason="Dropped.")
    with pytest.raises(ReleaseClosed):
        approve(release, people.ada, environment=envs["production"])


def test_same_decision_twice__is_one_decision(staged, envs, people):
    approve(staged, people.ada, environment=envs["production"])
    approve(staged, people.ada, environment=envs["production"])
    assert Approval.objects.count() == 1
    with pytest.raises(AlreadyDecided, match="withdraw"):
        reject(staged, people.ada, "Changed my mind", environment=envs["production"])


# --- Rejections, withdrawals, requests ---------------------------------------------------


def test_rejection__blocks_until_withdrawn(cleared, envs, people):
    rejection = reject(cleared, people.emma, "Load test missing.", environment=envs["production"])
    gate = _gates(cleared, envs["production"])["deployment_approvals"]
    assert gate.state == "closed"
    assert "rejected by Emma: Load test missing." in gate.reason
    approval_withdraw(approval=rejection, actor=people.emma, reason="Load test done.")
    assert _gates(cleared, envs["production"])["deployment_approvals"].state == "open"
    rejection.refresh_from_db()
    assert rejection.state == ApprovalState.WITHDRAWN
    assert AuditEvent.objects.filter(action="approvals.gate_closed").count() == 1


def test_withdraw__someone_elses_decision__is_refused(cleared, envs, people):
    approval = Approval.objects.get(person=people.ada)
    with pytest.raises(PermissionDenied):
        approval_withdraw(approval=approval, actor=people.abe)
    approval.refresh_from_db()
    assert approval.state == ApprovalState.ACTIVE


def test_new_request__sets_rejections_aside_and_notifies_eligible(staged, envs, people):
    reject(staged, people.abe, "Not this week.", environment=envs["production"])
    mail.outbox.clear()
    request = approval_request(
        release=staged,
        kind=ApprovalKind.DEPLOYMENT,
        environment=envs["production"],
        actor=people.alice,
        note="Moved to next week as asked.",
    )
    rejection = Approval.objects.get(person=people.abe)
    assert rejection.state == ApprovalState.SUPERSEDED
    notified = set(
        Notification.objects.filter(subject__contains="requested").values_list(
            "recipient__username", flat=True
        )
    )
    assert notified == {"ada", "abe", "emma"}
    event = AuditEvent.objects.get(action="approval.requested")
    assert event.data["superseded"] == [rejection.pk]
    assert request.requested_by == people.alice
    # The rejecter may now decide again.
    approve(staged, people.abe, environment=envs["production"])


def test_request__by_a_non_manager__is_forbidden(staged, envs, people):
    with pytest.raises(PermissionDenied):
        approval_request(release=staged, kind=ApprovalKind.SCOPE, actor=people.bob)


def test_decision__notifies_release_manager_after_commit(
    staged, envs, people, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        approve(staged, people.ada, environment=envs["production"])
    assert mail.outbox == []
    for callback in callbacks:
        callback()
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
    assert "Ada approved the deployment approval for Production of 2.4.0" in mail.outbox[0].subject


# --- Invalidation ------------------------------------------------------------------------


def test_scope_change__invalidates_scope_and_deployment_approvals(cleared, envs, people):
    release_tickets_add(
        release=cleared, tickets=[{"key": "PAY-9", "title": "Late addition"}], actor=people.alice
    )
    states = dict(Approval.objects.values_list("person__username", "state"))
    assert states == {
        "quinn": "active",
        "pat": "invalidated",
        "ada": "invalidated",
        "abe": "invalidated",
    }
    pat = Approval.objects.get(person=people.pat)
    assert "scope changed" in pat.state_reason and "PAY-9" in pat.state_reason
    gates = _gates(cleared, envs["production"])
    assert gates["scope_approval"].state == "closed"
    assert gates["deployment_approvals"].reason.startswith("0 of 2")
    told = set(
        Notification.objects.filter(subject__contains="no longer counts").values_list(
            "recipient__username", flat=True
        )
    )
    assert told == {"pat", "ada", "abe"}
    assert AuditEvent.objects.filter(action="approval.invalidated").count() == 3


def test_artifact_change__invalidates_qa_signoff_and_deployment_approvals(cleared, envs, people):
    release_update(release=cleared, actor=people.alice, artifact_version="payments-2.4.0-b2")
    states = dict(Approval.objects.values_list("person__username", "state"))
    assert states == {
        "quinn": "invalidated",
        "pat": "active",
        "ada": "invalidated",
        "abe": "invalidated",
    }
    # The history keeps what each approval was given for.
    assert Approval.objects.get(person=people.ada).artifact_version == ""
    # People may approve the new artifact.
    approve(cleared, people.ada, environment=envs["production"])
    assert Approval.objects.filter(person=people.ada).count() == 2


# --- Expiry ------------------------------------------------------------------------------


def test_expired_approval__stops_counting_and_can_be_renewed(cleared, envs, people):
    approval_policy_update(
        environment=envs["production"], actor=people.adam, approval_valid_hours=24
    )
    Approval.objects.filter(person=people.ada).update(
        created_at=timezone.now() - timedelta(hours=25)
    )
    gate = _gates(cleared, envs["production"])["deployment_approvals"]
    assert gate.state == "closed"
    assert "Ada (expired)" in gate.reason
    renewed = approve(cleared, people.ada, environment=envs["production"])
    old = Approval.objects.exclude(pk=renewed.pk).get(
        person=people.ada, kind=ApprovalKind.DEPLOYMENT
    )
    assert old.state == ApprovalState.EXPIRED
    assert _gates(cleared, envs["production"])["deployment_approvals"].state == "open"


# --- Policies ----------------------------------------------------------------------------


def test_policy_update__by_admin__is_saved_and_audited(envs, people):
    policy = approval_policy_update(
        environment=envs["staging"],
        actor=people.adam,
        required_approvals=1,
        requires_qa_signoff=True,
    )
    assert ApprovalPolicy.objects.get(pk=policy.pk).required_approvals == 1
    event = AuditEvent.objects.get(action="approval_policy.updated")
    assert event.data["changes"]["required_approvals"] == [0, 1]
    assert event.actor_label == "adam"


@pytest.mark.parametrize("who", ["alice", "ada", "aud"])
def test_policy_update__by_non_admin__is_forbidden(envs, people, who):
    with pytest.raises(PermissionDenied):
        approval_policy_update(
            environment=envs["production"], actor=getattr(people, who), required_approvals=0
        )
    assert not ApprovalPolicy.objects.exists()


def test_policy_update__outsider__gets_not_found(envs, people):
    with pytest.raises(NotFound):
        approval_policy_update(
            environment=envs["production"], actor=people.olga, required_approvals=0
        )


@pytest.mark.parametrize(
    "values",
    [
        {"required_approvals": 11},
        {"required_approvals": -1},
        {"required_approvals": "two"},
        {"approver_roles": ["auditor"]},
        {"approver_roles": ["ceo"]},
        {"required_approvals": 1, "approver_roles": []},
        {"approval_valid_hours": 0},
        {"colour": "red"},
    ],
)
def test_policy_update__bad_values__are_refused(envs, people, values):
    with pytest.raises(ValidationFailed):
        approval_policy_update(environment=envs["production"], actor=people.adam, **values)
    assert not ApprovalPolicy.objects.exists()


def test_policy__qa_signoff_on_the_first_environment__is_refused(envs, people):
    with pytest.raises(ValidationFailed, match="first environment"):
        approval_policy_update(environment=envs["dev"], actor=people.adam, requires_qa_signoff=True)


# --- The emergency path ------------------------------------------------------------------


@pytest.fixture
def hotfix(project, people, envs, only_approval_gates):
    release = release_create(
        project=project,
        version="2.3.2",
        title="Fix double charge",
        actor=people.alice,
        type=ReleaseType.HOTFIX,
        rollback_plan="Redeploy 2.3.1.",
    )
    deploy(release, envs["dev"], people.bob)
    release.refresh_from_db()
    return release


def test_emergency__only_emergency_approvers_may_give_it(hotfix, envs, people):
    with pytest.raises(RoleNotHeld):
        emergency_approve(
            release=hotfix,
            environment=envs["production"],
            actor=people.ada,
            justification="Customers are charged twice.",
        )
    assert not Release.objects.get(pk=hotfix.pk).is_emergency
    assert _denials()


def test_emergency__needs_a_justification(hotfix, envs, people):
    with pytest.raises(CommentRequired):
        emergency_approve(
            release=hotfix, environment=envs["production"], actor=people.emma, justification=" "
        )


def test_emergency__only_for_hotfixes(release, envs, people):
    with pytest.raises(ValidationFailed, match="hotfix"):
        emergency_approve(
            release=release,
            environment=envs["production"],
            actor=people.emma,
            justification="Because.",
        )


def test_emergency__is_loud_and_lets_the_hotfix_skip_staging(hotfix, envs, people):
    closed = _gates(hotfix, envs["production"])
    assert closed["order"].state == "closed"
    emergency_approve(
        release=hotfix,
        environment=envs["production"],
        actor=people.emma,
        justification="Customers are charged twice.",
    )
    hotfix.refresh_from_db()
    assert hotfix.is_emergency
    assert (
        AuditEvent.objects.filter(action="release.marked_emergency", release_id=hotfix.pk).count()
        == 1
    )
    urgent = Notification.objects.filter(urgent=True, subject__startswith="EMERGENCY")
    assert set(urgent.values_list("recipient__username", flat=True)) == {
        "alice",
        "bob",
        "quinn",
        "pat",
        "ada",
        "abe",
        "emma",
        "aud",
        "adam",
    }
    review = EmergencyReview.objects.get(release=hotfix)
    assert timedelta(hours=47, minutes=59) < review.due_at - timezone.now() <= timedelta(hours=48)
    gates = _gates(hotfix, envs["production"])
    assert gates["order"].state == "waived"
    assert "emergency approval by Emma: Customers are charged twice." in gates["order"].reason
    assert gates["qa_signoff"].state == "waived"
    # Everything else production asks for still holds.
    assert gates["deployment_approvals"].state == "closed"
    approve(hotfix, people.pat, ApprovalKind.SCOPE)
    approve(hotfix, people.ada, environment=envs["production"])
    approve(hotfix, people.abe, environment=envs["production"])
    approval_policy_update(
        environment=envs["production"], actor=people.adam, requires_go_no_go=False
    )
    deployment = release_promote(release=hotfix, environment=envs["production"], actor=people.bob)
    event = AuditEvent.objects.get(action="deployment.started", object_id=str(deployment.pk))
    assert {g["code"] for g in event.data["waived_gates"]} == {"order", "qa_signoff"}


def test_emergency__waives_nothing_but_the_way_into_production(
    project, people, envs, only_approval_gates
):
    hotfix = release_create(
        project=project,
        version="2.3.3",
        title="Fix",
        actor=people.alice,
        type=ReleaseType.HOTFIX,
        rollback_plan="Redeploy.",
    )
    assert _gates(hotfix, envs["production"])["order"].state == "closed"
    emergency_approve(
        release=hotfix, environment=envs["production"], actor=people.emma, justification="Urgent."
    )
    # Straight to production, as seed 004 allows; staging's own order gate still holds.
    assert _gates(hotfix, envs["production"])["order"].state == "waived"
    assert _gates(hotfix, envs["staging"])["order"].state == "closed"
    with pytest.raises(GateBlocked, match="production approvals"):
        release_promote(release=hotfix, environment=envs["production"], actor=people.bob)


def test_emergency__approval_withdrawn__closes_the_way_again(hotfix, envs, people):
    approval = emergency_approve(
        release=hotfix, environment=envs["production"], actor=people.emma, justification="Urgent."
    )
    approval_withdraw(approval=approval, actor=people.emma, reason="Staging is free after all.")
    assert _gates(hotfix, envs["production"])["order"].state == "closed"
    hotfix.refresh_from_db()
    assert hotfix.is_emergency  # once announced, the release stays marked


def test_emergency_review__overdue_notice_goes_out_once(hotfix, envs, people):
    emergency_approve(
        release=hotfix, environment=envs["production"], actor=people.emma, justification="Urgent."
    )
    review = EmergencyReview.objects.get(release=hotfix)
    assert emergency_reviews_overdue_notify() == 0
    EmergencyReview.objects.filter(pk=review.pk).update(due_at=timezone.now() - timedelta(hours=1))
    assert emergency_reviews_overdue_notify() == 1
    assert emergency_reviews_overdue_notify() == 0
    review.refresh_from_db()
    assert review.is_overdue()
    assert AuditEvent.objects.filter(action="emergency_review.overdue").count() == 1
    told = set(
        Notification.objects.filter(subject__startswith="Overdue").values_list(
            "recipient__username", flat=True
        )
    )
    assert told == {"alice", "emma", "adam"}


def test_emergency_review__complete(hotfix, envs, people):
    emergency_approve(
        release=hotfix, environment=envs["production"], actor=people.emma, justification="Urgent."
    )
    review = EmergencyReview.objects.get(release=hotfix)
    with pytest.raises(PermissionDenied):
        emergency_review_complete(review=review, actor=people.bob, summary="Fine.")
    with pytest.raises(ValidationFailed):
        emergency_review_complete(review=review, actor=people.alice, summary="")
    emergency_review_complete(review=review, actor=people.alice, summary="Root cause: retry loop.")
    review.refresh_from_db()
    assert review.is_done and not review.is_overdue()
    with pytest.raises(TransitionNotAllowed):
        emergency_review_complete(review=review, actor=people.alice, summary="Again.")


# --- The audit chain ---------------------------------------------------------------------


def test_every_decision_is_audited_in_order(cleared, envs, people):
    actions = list(
        AuditEvent.objects.filter(action__startswith="approval").values_list("action", flat=True)
    )
    assert actions.count("approval.approved") == 4
    assert Decision.APPROVE == "approve"
    from audit.selectors import audit_chain_verify

    count, problem = audit_chain_verify()
    assert problem is None and count == AuditEvent.objects.count()
