"""Approval policies and go/no-go scheduling through the API, with the page's rules and sentences."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from approvals.choices import MeetingStatus
from approvals.models import ApprovalPolicy, GoNoGoMeeting
from approvals.services import meeting_schedule
from audit.models import AuditEvent
from projects.services import api_token_create

POLICIES = "/api/v1/approvals/projects/payments/policies/"


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def token(project, people, *scopes) -> APIClient:
    _token, plain = api_token_create(
        project=project, name="ci", scopes=list(scopes), actor=people.adam
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    return client


# --- Approval policies ---------------------------------------------------------------------


def test_policies__list_in_promotion_order_with_defaults(people, envs):
    body = api(people.aud).get(POLICIES).json()
    assert [p["environment"] for p in body["results"]] == ["dev", "staging", "production"]
    production = body["results"][2]
    assert production["saved"] is False and production["required_approvals"] == 2
    assert production["requires_go_no_go"] is True


def test_policy__admin_changes_it__audited_with_old_and_new(people, envs):
    response = api(people.adam).patch(
        f"{POLICIES}staging/",
        {"required_approvals": 1, "approver_roles": ["approver", "release_manager"]},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["saved"] is True and body["required_approvals"] == 1
    assert body["approver_roles"] == ["release_manager", "approver"]
    assert body["updated_by"] == "adam"
    policy = ApprovalPolicy.objects.get(environment=envs["staging"])
    assert policy.required_approvals == 1
    event = AuditEvent.objects.get(action="approval_policy.updated")
    assert event.data["changes"]["required_approvals"] == [0, 1]


@pytest.mark.parametrize(
    ("api_body", "form_values", "sentence"),
    [
        (
            {"required_approvals": 11},
            {"required_approvals": "11"},
            "The number of approvals must be between 0 and 10.",
        ),
        (
            {"approver_roles": ["auditor"]},
            {"required_approvals": "1", "approver_roles": ["auditor"]},
            "Auditors read and never decide; they cannot be approvers.",
        ),
        (
            {"approval_valid_hours": 0},
            {
                "required_approvals": "1",
                "approver_roles": ["approver"],
                "approval_valid_hours": "0",
            },
            "The expiry must be between 1 and 8760 hours, or empty.",
        ),
    ],
)
def test_policy__bad_values__same_sentence_in_api_and_page(
    people, envs, client, api_body, form_values, sentence
):
    response = api(people.adam).patch(f"{POLICIES}production/", api_body, format="json")
    assert response.status_code == 400
    assert response.json()["message"] == sentence
    client.force_login(people.adam)
    page = client.post(
        "/approvals/projects/payments/policies/",
        {"environment": str(envs["production"].pk), **form_values},
    )
    assert page.status_code == 200 and sentence in page.content.decode()
    assert not ApprovalPolicy.objects.exists()


def test_policy__who_may__order_of_checks(project, people, envs):
    url = f"{POLICIES}production/"
    assert api(people.aud).get(url).status_code == 200
    assert api(people.aud).patch(url, "{", content_type="application/json").status_code == 403
    assert api(people.alice).patch(url, {"required_approvals": 0}, format="json").status_code == 403
    assert api(people.olga).get(url).status_code == 404
    assert api(people.olga).get(POLICIES).status_code == 404
    assert api(people.olga).patch(url, {"required_approvals": 0}, format="json").status_code == 404
    response = token(project, people, "read", "releases", "deployments").patch(
        url, {"required_approvals": 0}, format="json"
    )
    assert response.status_code == 403 and response.json()["error"] == "people_only"
    assert api(people.adam).get(f"{POLICIES}nowhere/").status_code == 404
    assert not ApprovalPolicy.objects.exists()


# --- Go/no-go scheduling ------------------------------------------------------------------------


def _when(hours: float = 2) -> str:
    return (timezone.now() + timedelta(hours=hours)).replace(microsecond=0).isoformat()


def test_meeting__schedule_reschedule_cancel__through_the_api(people, release, envs):
    client = api(people.alice)
    response = client.post(
        "/api/v1/go-no-go/",
        {"release": release.pk, "environment": "production", "scheduled_for": _when()},
        format="json",
    )
    assert response.status_code == 201, response.content
    meeting = response.json()
    assert meeting["status"] == "scheduled" and meeting["environment"] == "production"
    seated = {a["person"]: a["seat"] for a in meeting["attendees"]}
    assert seated["alice"] == "release_manager" and seated["quinn"] == "qa_lead"
    assert AuditEvent.objects.filter(action="meeting.scheduled").count() == 1

    again = client.post(
        "/api/v1/go-no-go/",
        {"release": release.pk, "environment": "production", "scheduled_for": _when(3)},
        format="json",
    )
    assert again.status_code == 409 and "already scheduled" in again.json()["message"]

    moved = client.post(
        f"/api/v1/go-no-go/{meeting['id']}/reschedule/",
        {"scheduled_for": _when(26), "reason": "The CTO is travelling."},
        format="json",
    )
    assert moved.status_code == 200, moved.content
    row = GoNoGoMeeting.objects.get(pk=meeting["id"])
    assert row.scheduled_for > timezone.now() + timedelta(hours=25)
    event = AuditEvent.objects.get(action="meeting.rescheduled")
    assert event.reason == "The CTO is travelling." and event.data["environment"] == "production"

    no_reason = client.post(f"/api/v1/go-no-go/{meeting['id']}/cancel/", {}, format="json")
    assert no_reason.status_code == 400
    assert no_reason.json()["message"] == "Say why the meeting is cancelled."
    cancelled = client.post(
        f"/api/v1/go-no-go/{meeting['id']}/cancel/", {"reason": "Scope changed."}, format="json"
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    late = client.post(
        f"/api/v1/go-no-go/{meeting['id']}/reschedule/", {"scheduled_for": _when()}, format="json"
    )
    assert late.status_code == 409


def test_meeting__schedule_with_named_attendees__unknown_person_refused(people, release, envs):
    client = api(people.alice)
    response = client.post(
        "/api/v1/go-no-go/",
        {
            "release": release.pk,
            "environment": "production",
            "scheduled_for": _when(),
            "attendees": [
                {"person": "quinn", "seat": "qa_lead"},
                {"person": "olga", "seat": "qa_lead"},
            ],
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["message"] == "olga is not a member of this project."
    response = client.post(
        "/api/v1/go-no-go/",
        {
            "release": release.pk,
            "environment": "production",
            "scheduled_for": _when(),
            "attendees": [{"person": "quinn", "seat": "qa_lead"}],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    meeting = GoNoGoMeeting.objects.get()
    assert sorted(a.person.username for a in meeting.attendees.all()) == ["alice", "quinn"]


def test_meeting__time_in_the_past__same_sentence_in_api_and_page(people, release, envs, client):
    past = timezone.now() - timedelta(days=3)
    response = api(people.alice).post(
        "/api/v1/go-no-go/",
        {"release": release.pk, "environment": "production", "scheduled_for": past.isoformat()},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["message"] == "Choose a time that is not in the past."
    client.force_login(people.alice)
    page = client.post(
        f"/approvals/releases/{release.pk}/go-no-go/new/",
        {
            "environment": str(envs["production"].pk),
            "scheduled_for": timezone.localtime(past).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert (
        page.status_code == 200
        and "Choose a time that is not in the past." in page.content.decode()
    )
    assert not GoNoGoMeeting.objects.exists()


def test_meeting__reschedule_from_the_page(people, release, envs, client):
    meeting = meeting_schedule(
        release=release,
        environment=envs["production"],
        scheduled_for=timezone.now() + timedelta(hours=1),
        actor=people.alice,
    )
    target = timezone.localtime(timezone.now() + timedelta(days=2)).replace(second=0, microsecond=0)
    client.force_login(people.alice)
    page = client.get(f"/approvals/meetings/{meeting.pk}/")
    assert "Move the meeting" in page.content.decode()
    response = client.post(
        f"/approvals/meetings/{meeting.pk}/reschedule/",
        {"scheduled_for": target.strftime("%Y-%m-%dT%H:%M"), "reason": "Holiday."},
    )
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.scheduled_for == target
    assert meeting.status == MeetingStatus.SCHEDULED
    client.force_login(people.quinn)
    assert (
        client.post(
            f"/approvals/meetings/{meeting.pk}/reschedule/",
            {"scheduled_for": target.strftime("%Y-%m-%dT%H:%M")},
        ).status_code
        == 403
    )


def test_meeting__who_may_schedule__order_of_checks(project, people, release, envs):
    body = {"release": release.pk, "environment": "production", "scheduled_for": _when()}
    assert api(people.aud).post("/api/v1/go-no-go/", {}, format="json").status_code == 403
    assert api(people.aud).post("/api/v1/go-no-go/", body, format="json").status_code == 403
    assert api(people.quinn).post("/api/v1/go-no-go/", body, format="json").status_code == 403
    assert api(people.olga).post("/api/v1/go-no-go/", body, format="json").status_code == 404
    response = token(project, people, "read", "releases").post(
        "/api/v1/go-no-go/", body, format="json"
    )
    assert response.status_code == 403 and response.json()["error"] == "people_only"
    bad = api(people.alice).post(
        "/api/v1/go-no-go/", {"release": release.pk, "scheduled_for": "soon"}, format="json"
    )
    assert bad.status_code == 400 and {"environment", "scheduled_for"} <= set(bad.json()["details"])
    assert not GoNoGoMeeting.objects.exists()

    meeting = meeting_schedule(
        release=release,
        environment=envs["production"],
        scheduled_for=timezone.now() + timedelta(hours=1),
        actor=people.alice,
    )
    for who, expected in ((people.aud, 403), (people.quinn, 403), (people.olga, 404)):
        for op in ("reschedule", "cancel"):
            response = api(who).post(f"/api/v1/go-no-go/{meeting.pk}/{op}/", {}, format="json")
            assert response.status_code == expected, (who, op)
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.SCHEDULED


def test_policies__query_count_does_not_grow_with_saved_policies(
    people, envs, django_assert_max_num_queries
):
    client = api(people.aud)
    with CaptureQueriesContext(connection) as before:
        client.get(POLICIES)
    baseline = len(before.captured_queries)  # read now: every request resets the query log
    assert baseline <= 6
    for name in ("dev", "staging", "production"):
        api(people.adam).patch(f"{POLICIES}{name}/", {"requires_go_no_go": True}, format="json")
    with django_assert_max_num_queries(baseline):
        body = client.get(POLICIES).json()
    assert [p["updated_by"] for p in body["results"]] == ["adam", "adam", "adam"]
