import pytest
from rest_framework.test import APIClient

from approvals.choices import ApprovalKind
from approvals.models import Approval, GoNoGoMeeting
from approvals.services import meeting_schedule
from audit.models import AuditEvent
from projects.choices import TokenScope
from projects.services import api_token_create
from tests.approvals.conftest import approve


@pytest.fixture
def api():
    return APIClient()


def _as(api, user):
    api.force_authenticate(user=user)
    return api


def _token(project, people, *scopes):
    _, plain = api_token_create(project=project, name="ci", scopes=list(scopes), actor=people.adam)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    return client


def test_matrix__shows_required_given_and_eligible(api, staged, people, envs):
    approve(staged, people.ada, environment=envs["production"])
    response = _as(api, people.aud).get(f"/api/v1/release-approvals/{staged.pk}/")
    assert response.status_code == 200
    body = response.json()
    [production] = body["environments"]
    assert production["environment"] == "production"
    assert production["ready"] is False
    deployment = next(r for r in production["requirements"] if r["kind"] == "deployment")
    assert deployment == {
        "kind": "deployment",
        "gate": "deployment_approvals",
        "title": "2 deployment approvals for Production",
        "about": "production",
        "needed": 2,
        "given": 1,
        "satisfied": False,
        "reason": "1 of 2 production approvals; eligible: Abe, Emma.",
        "approved_by": ["ada"],
        "rejections": [],
        "not_counted": [],
        "eligible": ["abe", "emma"],
    }
    assert production["go_no_go"]["reason"] == "Go/no-go not decided."
    assert [a["person"] for a in body["approvals"]] == ["ada"]


def test_matrix__outsider__404(api, staged, people):
    response = _as(api, people.olga).get(f"/api/v1/release-approvals/{staged.pk}/")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_approve__person__201(api, staged, people, envs):
    response = _as(api, people.abe).post(
        f"/api/v1/release-approvals/{staged.pk}/approve/",
        {"kind": "deployment", "environment": "production"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["person"] == "abe"
    assert response.json()["state"] == "active"


def test_approve__token__403_and_a_denial_event(staged, project, people):
    client = _token(project, people, TokenScope.RELEASES, TokenScope.DEPLOYMENTS, TokenScope.READ)
    response = client.post(
        f"/api/v1/release-approvals/{staged.pk}/approve/",
        {"kind": "deployment", "environment": "production"},
        format="json",
    )
    assert response.status_code == 403
    assert response.json()["error"] == "people_only"
    assert not Approval.objects.exists()
    denial = AuditEvent.objects.get(action="approval.denied")
    assert denial.actor_kind == "token"


def test_approve__token_of_another_project__404(staged, other_project, people):
    from projects.choices import Role
    from tests.approvals.conftest import grant

    grant(other_project, people.adam, Role.ADMIN)
    client = _token(other_project, people, TokenScope.RELEASES, TokenScope.READ)
    response = client.post(
        f"/api/v1/release-approvals/{staged.pk}/approve/", {"kind": "scope"}, format="json"
    )
    assert response.status_code == 404


def test_approve__self_approval__403_json(api, project, people, envs):
    from projects.choices import Role
    from releases.services import release_create
    from tests.approvals.conftest import grant

    grant(project, people.ada, Role.ENGINEER)
    own = release_create(
        project=project,
        version="9.0.0",
        title="Own",
        actor=people.ada,
        release_manager=people.alice,
    )
    response = _as(api, people.ada).post(
        f"/api/v1/release-approvals/{own.pk}/approve/",
        {"kind": "deployment", "environment": "production"},
        format="json",
    )
    assert response.status_code == 403
    assert response.json()["error"] == "self_approval"
    assert "created this release" in response.json()["message"]


def test_approve__outsider__404_and_a_denial_event(api, staged, people):
    response = _as(api, people.olga).post(
        f"/api/v1/release-approvals/{staged.pk}/approve/", {"kind": "scope"}, format="json"
    )
    assert response.status_code == 404
    assert AuditEvent.objects.filter(action="approval.denied", actor_label="olga").count() == 1


def test_reject__without_comment__400(api, staged, people):
    response = _as(api, people.pat).post(
        f"/api/v1/release-approvals/{staged.pk}/reject/", {"kind": "scope"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"] == "comment_required"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"kind": "bogus"},
        {"kind": "deployment", "environment": "nowhere"},
        {"kind": "deployment"},
        {"kind": "deployment", "environment": "production", "role": "king"},
        {"kind": ["scope"]},
        {"kind": "scope", "comment": "x" * 6000},
        {"kind": "scope", "comment": "nul\x00"},
    ],
)
def test_approve__bad_input__4xx_json_never_500(api, staged, people, body):
    response = _as(api, people.ada).post(
        f"/api/v1/release-approvals/{staged.pk}/approve/", body, format="json"
    )
    assert response.status_code in (400, 403, 404)
    assert "error" in response.json()
    assert not Approval.objects.exists()


def test_approve__unknown_release__404(api, people):
    response = _as(api, people.ada).post(
        "/api/v1/release-approvals/999999/approve/", {"kind": "scope"}, format="json"
    )
    assert response.status_code == 404


def test_withdraw__own_decision(api, staged, people, envs):
    approval = approve(staged, people.ada, environment=envs["production"])
    response = _as(api, people.ada).post(
        f"/api/v1/approvals/{approval.pk}/withdraw/", {"reason": "Oops"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["state"] == "withdrawn"


def test_withdraw__someone_elses__403(api, staged, people, envs):
    approval = approve(staged, people.ada, environment=envs["production"])
    response = _as(api, people.abe).post(
        f"/api/v1/approvals/{approval.pk}/withdraw/", {}, format="json"
    )
    assert response.status_code == 403


def test_withdraw__token__403(staged, project, people, envs):
    approval = approve(staged, people.ada, environment=envs["production"])
    client = _token(project, people, TokenScope.RELEASES, TokenScope.READ)
    response = client.post(f"/api/v1/approvals/{approval.pk}/withdraw/", {}, format="json")
    assert response.status_code == 403
    assert response.json()["error"] == "people_only"


def test_approval_list__only_visible(api, staged, people, envs):
    approve(staged, people.ada, environment=envs["production"])
    assert _as(api, people.olga).get("/api/v1/approvals/").json()["results"] == []
    rows = _as(api, people.aud).get(f"/api/v1/approvals/?release={staged.pk}").json()["results"]
    assert [r["person"] for r in rows] == ["ada"]


def test_emergency__via_api(api, project, people, envs, only_approval_gates):
    from releases.services import release_create

    hotfix = release_create(
        project=project, version="2.3.9", title="Hotfix", actor=people.alice, type="hotfix"
    )
    response = _as(api, people.emma).post(
        f"/api/v1/release-approvals/{hotfix.pk}/emergency/",
        {"justification": "Checkout is down."},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["kind"] == ApprovalKind.EMERGENCY
    matrix = _as(api, people.aud).get(f"/api/v1/release-approvals/{hotfix.pk}/").json()
    assert matrix["is_emergency"] is True
    assert matrix["review"]["overdue"] is False


def test_request__via_api(api, staged, people):
    response = _as(api, people.alice).post(
        f"/api/v1/release-approvals/{staged.pk}/request/",
        {"kind": "scope", "note": "Please"},
        format="json",
    )
    assert response.status_code == 201
    assert AuditEvent.objects.filter(action="approval.requested").count() == 1


def test_meeting_vote_and_decide__via_api(api, cleared, people, envs):
    from django.utils import timezone

    meeting = meeting_schedule(
        release=cleared,
        environment=envs["production"],
        scheduled_for=timezone.now(),
        actor=people.alice,
    )
    response = _as(api, people.ada).post(
        f"/api/v1/go-no-go/{meeting.pk}/vote/", {"vote": "go"}, format="json"
    )
    assert response.status_code == 200
    assert [v["person"] for v in response.json()["votes"]] == ["ada"]
    outsider = APIClient()
    response = _as(outsider, people.aud).post(
        f"/api/v1/go-no-go/{meeting.pk}/vote/", {"vote": "go"}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["error"] == "not_an_attendee"
    decided = _as(APIClient(), people.alice).post(
        f"/api/v1/go-no-go/{meeting.pk}/decide/",
        {"decision": "go", "reason": "Ready."},
        format="json",
    )
    assert decided.status_code == 200
    assert decided.json()["decision"] == "go"
    assert decided.json()["decided_version"] == "2.4.0"
    assert GoNoGoMeeting.objects.get().status == "decided"


def test_schema__documents_the_approvals_api(api, people):
    response = _as(api, people.ada).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/release-approvals/{id}/approve/" in paths
    assert "/api/v1/approvals/{id}/withdraw/" in paths
    assert "/api/v1/go-no-go/{id}/vote/" in paths
