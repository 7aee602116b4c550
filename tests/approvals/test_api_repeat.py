"""Issue 12, item 4: a repeated decision answers 200 with the first record and says so."""

from rest_framework.test import APIClient

from approvals.models import Approval
from audit.models import AuditEvent


def _as(user):
    client = APIClient()
    client.force_authenticate(user=user)
    return client


def test_approve__twice__201_then_200_with_the_first_record(staged, people):
    client = _as(people.abe)
    url = f"/api/v1/release-approvals/{staged.pk}/approve/"
    body = {"kind": "deployment", "environment": "production"}

    first = client.post(url, body, format="json")
    assert first.status_code == 201, first.json()
    assert first.json()["repeat"] is False
    assert first.json()["message"] == "Recorded: you approved this."

    second = client.post(url, body, format="json")
    assert second.status_code == 200, second.json()
    assert second.json()["repeat"] is True
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["created_at"] == first.json()["created_at"]
    assert "already approved" in second.json()["message"]
    assert "nothing changed" in second.json()["message"]
    assert Approval.objects.filter(release=staged).count() == 1
    assert AuditEvent.objects.filter(action="approval.approved").count() == 1


def test_reject__twice__second_answer_is_200_repeat(staged, people):
    client = _as(people.abe)
    url = f"/api/v1/release-approvals/{staged.pk}/reject/"
    body = {"kind": "deployment", "environment": "production", "comment": "Error rate too high."}
    assert client.post(url, body, format="json").status_code == 201
    again = client.post(url, body, format="json")
    assert again.status_code == 200
    assert again.json()["repeat"] is True
    assert again.json()["decision"] == "reject"
    assert "already rejected" in again.json()["message"]


def test_approve__other_decision_after_a_repeat__still_409(staged, people):
    client = _as(people.abe)
    url = f"/api/v1/release-approvals/{staged.pk}/"
    body = {"kind": "deployment", "environment": "production"}
    assert client.post(url + "approve/", body, format="json").status_code == 201
    response = client.post(url + "reject/", {**body, "comment": "Changed my mind."}, format="json")
    assert response.status_code == 409
    assert response.json()["error"] == "already_decided"
