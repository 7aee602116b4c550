"""The flags API: flags per environment, plans and their actions, in docs/api.md's order of refusals."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from audit.models import AuditEvent
from flags.models import Flag, RolloutPlan
from flags.services import flag_create

BASE = "/api/v1/flags/projects/payments/environments/production"


@pytest.fixture
def api():
    def client_for(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return client_for


def test_flag_create_read_change(api, people, prod):
    alice = api(people.alice)
    created = alice.post(
        f"{BASE}/flags/", {"key": "new-search", "rollout": 5, "enabled": True}, format="json"
    )
    assert created.status_code == 201, created.json()
    assert created.json()["group_id"] == "new-search"
    changed = alice.patch(
        f"{BASE}/flags/new-search/",
        {"rollout": 30, "beta_testers": ["u1"], "reason": "Ramp"},
        format="json",
    )
    assert changed.status_code == 200 and changed.json()["rollout"] == 30
    event = AuditEvent.objects.get(action="flags.flag_changed")
    assert event.data["before"]["rollout"] == 5 and event.data["after"]["rollout"] == 30
    listed = alice.get(f"{BASE}/flags/").json()
    assert [f["key"] for f in listed["results"]] == ["new-search"]


def test_flag_refusals(api, people, prod, flag):
    assert api(people.olga).get(f"{BASE}/flags/").status_code == 404
    assert (
        api(people.aud)
        .patch(f"{BASE}/flags/fast-checkout/", {"rollout": 1}, format="json")
        .status_code
        == 403
    )
    bad = api(people.alice).patch(f"{BASE}/flags/fast-checkout/", {"rollout": 101}, format="json")
    assert bad.status_code == 400 and bad.json()["error"]
    assert api(people.alice).get(f"{BASE}/flags/nope/").status_code == 404
    dup = api(people.alice).post(f"{BASE}/flags/", {"key": "fast-checkout"}, format="json")
    assert dup.status_code == 400
    assert Flag.objects.get().rollout == 10


def test_flag_list_queries_do_not_grow(api, people, prod, django_assert_max_num_queries):
    alice = api(people.alice)
    for n in range(3):
        flag_create(environment=prod, actor=people.alice, key=f"f{n}")
    with django_assert_max_num_queries(8):
        assert alice.get(f"{BASE}/flags/").status_code == 200
    for n in range(3, 30):
        flag_create(environment=prod, actor=people.alice, key=f"f{n}")
    with django_assert_max_num_queries(8):
        assert len(alice.get(f"{BASE}/flags/").json()["results"]) == 30


def test_plan_create_and_actions(api, people, release, flag):
    alice = api(people.alice)
    created = alice.post(
        f"/api/v1/flags/releases/{release.pk}/plans/",
        {
            "environment": "production",
            "flag": "fast-checkout",
            "steps": [
                {"percent": 10, "hold_seconds": 3600},
                {"percent": 100, "hold_seconds": 3600},
            ],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    plan = created.json()
    assert [s["percent"] for s in plan["steps"]] == [10, 100] and plan["status"] == "draft"
    started = alice.post(f"/api/v1/flags/plans/{plan['id']}/start/", {}, format="json")
    assert started.json()["status"] == "running" and started.json()["current_percent"] == 10
    paused = alice.post(
        f"/api/v1/flags/plans/{plan['id']}/pause/", {"reason": "Hold on"}, format="json"
    )
    assert paused.json()["status"] == "paused"
    again = alice.post(f"/api/v1/flags/plans/{plan['id']}/pause/", {}, format="json")
    assert again.status_code == 409
    assert (
        api(people.quinn)
        .post(f"/api/v1/flags/plans/{plan['id']}/resume/", {}, format="json")
        .status_code
        == 403
    )
    assert api(people.olga).get(f"/api/v1/flags/plans/{plan['id']}/").status_code == 404
    done = alice.post(f"/api/v1/flags/plans/{plan['id']}/complete/", {}, format="json")
    assert done.json()["status"] == "completed" and done.json()["current_percent"] == 100


def test_plan_bad_input(api, people, release, flag):
    alice = api(people.alice)
    url = f"/api/v1/flags/releases/{release.pk}/plans/"
    falling = alice.post(
        url,
        {
            "environment": "production",
            "flag": "fast-checkout",
            "steps": [{"percent": 50, "hold_seconds": 3600}, {"percent": 20, "hold_seconds": 3600}],
        },
        format="json",
    )
    assert falling.status_code == 400 and "rise" in falling.json()["message"]
    unknown = alice.post(url, {"environment": "production", "flag": "nope"}, format="json")
    assert unknown.status_code == 400
    no_env = alice.post(url, {"environment": "mars", "flag": "fast-checkout"}, format="json")
    assert no_env.status_code == 404
    assert (
        api(people.aud)
        .post(url, {"environment": "production", "flag": "fast-checkout"}, format="json")
        .status_code
        == 403
    )
    assert not RolloutPlan.objects.exists()
