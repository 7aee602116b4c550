"""The notifications API: subscribers, channels, preferences, the delivery log, send again."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from notifications import services
from notifications.choices import DeliveryStatus
from notifications.models import Channel, Delivery
from tests.monitoring.servers import Answer
from tests.notifications.conftest import announce, drain

pytestmark = pytest.mark.django_db
BASE = "/api/v1/notifications"


def api(person):
    client = APIClient()
    client.force_authenticate(person)
    return client


def test_subscribers__add_list_remove(project, people):
    admin = api(people.adam)
    made = admin.post(
        f"{BASE}/projects/payments/subscribers/",
        {"audience": "qa", "username": "quinn"},
        format="json",
    )
    assert made.status_code == 201, made.json()
    assert made.json()["address"] == "quinn@example.com"
    assert (
        admin.post(
            f"{BASE}/projects/payments/subscribers/",
            {"audience": "customers", "email": "c@x.example"},
            format="json",
        ).status_code
        == 201
    )
    listed = api(people.bob).get(f"{BASE}/projects/payments/subscribers/").json()
    assert listed["count"] == 2
    assert admin.delete(f"{BASE}/subscribers/{made.json()['id']}/").status_code == 204


def test_subscribers__order_of_refusals(project, people):
    body = {"audience": "qa", "email": "x@x.example"}
    assert (
        api(people.olga)
        .post(f"{BASE}/projects/payments/subscribers/", body, format="json")
        .status_code
        == 404
    )
    refused = api(people.aud).post(f"{BASE}/projects/payments/subscribers/", {}, format="json")
    assert refused.status_code == 403 and "release manager" in refused.json()["message"]
    bad = api(people.adam).post(
        f"{BASE}/projects/payments/subscribers/", {"audience": "nobody"}, format="json"
    )
    assert bad.status_code == 400 and "audience" in bad.json()["details"]


def test_channels__secret_answered_once_never_listed(project, people, settings):
    settings.SHIPCHECK_FETCH_ALLOWLIST = ["hooks.example.com"]
    admin = api(people.adam)
    made = admin.post(
        f"{BASE}/projects/payments/channels/",
        {
            "kind": "webhook",
            "name": "Bot",
            "url": "https://hooks.example.com/x",
            "audiences": ["team"],
        },
        format="json",
    )
    assert made.status_code == 201, made.json()
    secret = made.json()["secret"]
    assert secret.startswith("whsec_")
    listed = admin.get(f"{BASE}/projects/payments/channels/")
    assert secret not in listed.content.decode()
    assert listed.json()["results"][0]["secret_set"] is True
    pk = made.json()["id"]
    changed = admin.patch(f"{BASE}/channels/{pk}/", {"enabled": False}, format="json")
    assert (
        changed.status_code == 200
        and changed.json()["enabled"] is False
        and changed.json()["secret"] == ""
    )
    rotated = admin.patch(f"{BASE}/channels/{pk}/", {"new_secret": True}, format="json").json()
    assert rotated["secret"] and rotated["secret"] != secret
    assert Channel.objects.get().secret == rotated["secret"]


def test_channels__internal_url_is_a_400_naming_the_field(project, people):
    answer = api(people.adam).post(
        f"{BASE}/projects/payments/channels/",
        {"kind": "slack", "name": "#x", "url": "http://10.0.0.5/hook", "audiences": ["team"]},
        format="json",
    )
    assert answer.status_code == 400 and "url" in answer.json()["details"]


def test_preferences__each_person_their_own(project, people):
    bob = api(people.bob)
    answer = bob.post(
        f"{BASE}/projects/payments/preferences/",
        {"event_key": "deployment.failed", "mode": "off"},
        format="json",
    )
    assert answer.status_code == 200 and answer.json() == [
        {
            "event_key": "deployment.failed",
            "mode": "off",
            "updated_at": answer.json()[0]["updated_at"],
        }
    ]
    assert api(people.alice).get(f"{BASE}/projects/payments/preferences/").json() == []
    bad = bob.post(
        f"{BASE}/projects/payments/preferences/",
        {"event_key": "no.such", "mode": "off"},
        format="json",
    )
    assert bad.status_code == 400


@pytest.mark.usefixtures("allow_loopback")
def test_delivery_log__filters_constant_queries_and_send_again(
    project, people, receiver, django_assert_max_num_queries
):
    services.channel_create(
        project=project,
        actor=people.adam,
        kind="webhook",
        name="Down",
        url=receiver.url("/d"),
        audiences=["team"],
    )
    receiver.route("/d", Answer(500))
    client = api(people.alice)
    announce(project)
    drain()
    with django_assert_max_num_queries(10):
        small = client.get(f"{BASE}/projects/payments/deliveries/?status=dead")
    for n in range(10):
        announce(project, subject=f"n{n}")
    drain()
    with django_assert_max_num_queries(10):
        large = client.get(f"{BASE}/projects/payments/deliveries/?status=dead")
    assert small.json()["count"] == 1 and large.json()["count"] == 11
    item = large.json()["results"][0]
    assert item["status"] == "dead" and item["delivery_id"] and item["attempts"] == 4
    assert client.get(f"{BASE}/projects/payments/deliveries/?status=nonsense").status_code == 400
    receiver.route("/d", Answer(200))
    resent = client.post(f"{BASE}/deliveries/{item['id']}/resend/")
    assert resent.status_code == 202
    assert Delivery.objects.get(pk=item["id"]).status in (
        DeliveryStatus.PENDING,
        DeliveryStatus.DELIVERED,
    )
    again = client.post(f"{BASE}/deliveries/{item['id']}/resend/")
    assert again.status_code == 409
    assert (
        api(people.bob)
        .post(f"{BASE}/deliveries/{large.json()['results'][1]['id']}/resend/")
        .status_code
        == 403
    )
    assert api(people.olga).get(f"{BASE}/deliveries/{item['id']}/").status_code == 404
