"""Outbox rows delivered to real HTTP receivers: signatures, shapes, retries, 410, deadlines."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from standardwebhooks import Webhook

from core.exceptions import Conflict, ValidationFailed
from core.models import Notification
from notifications import payloads, services
from notifications.choices import DeliveryStatus
from notifications.models import Channel, Delivery
from tests.monitoring.servers import Answer, Seen
from tests.notifications.conftest import announce, drain

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("allow_loopback")]

GITHUB_SECRET = "It's a Secret to Everybody"
GITHUB_SIGNATURE = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def webhook(project, people, url, **kw):
    return services.channel_create(
        project=project,
        actor=people.adam,
        kind=kw.pop("kind", "webhook"),
        name=kw.pop("name", "Receiver"),
        url=url,
        audiences=kw.pop("audiences", ["team"]),
        **kw,
    )


def test_github_signature__matches_the_documented_test_vector():
    assert (
        payloads.github_signature(GITHUB_SECRET, b"Hello, World!") == f"sha256={GITHUB_SIGNATURE}"
    )


def test_webhook__both_signatures_verify_with_the_reference_library(project, people, receiver):
    saved = webhook(project, people, receiver.url("/hook"))
    secret = saved.secret
    assert secret.startswith("whsec_")
    verified: list[dict] = []

    def check(seen: Seen) -> Answer:
        # Standard Webhooks, with the specification's reference implementation.
        payload = Webhook(secret).verify(seen.body, seen.headers)
        # GitHub's scheme: HMAC-SHA256 of the raw body under the secret, in hex.
        assert seen.headers["X-Hub-Signature-256"] == payloads.github_signature(secret, seen.body)
        verified.append(payload)
        return Answer(204)

    receiver.route("/hook", check)
    announce(project, subject="2.4.0 reached production", body="All green.")
    assert drain() == ["delivered"]
    row = Delivery.objects.get()
    assert row.status == DeliveryStatus.DELIVERED and row.attempts == 1
    (payload,) = verified
    assert payload["id"] == str(row.uid) == receiver.requests[0].headers["webhook-id"]
    assert payload["type"] == "tests.something_happened"
    assert payload["data"]["subject"] == "2.4.0 reached production"
    assert payload["data"]["project"] == "Payments"


def test_webhook__a_tampered_body_fails_verification(project, people, receiver):
    saved = webhook(project, people, receiver.url("/hook"))
    receiver.route("/hook", Answer(200))
    announce(project)
    drain()
    seen = receiver.requests[0]
    with pytest.raises(Exception, match="signature"):
        Webhook(saved.secret).verify(seen.body.replace(b"2.4.0", b"6.6.6"), seen.headers)


def test_slack__block_kit_within_limits_and_long_text_cut_with_an_ellipsis(
    project, people, receiver
):
    webhook(project, people, receiver.url("/slack"), kind="slack", name="#releases")
    problems: list[str] = []

    def check(seen: Seen) -> Answer:
        body = json.loads(seen.body)
        if not body.get("text"):
            problems.append("no text fallback")
        blocks = body["blocks"]
        if len(blocks) > 50:
            problems.append(f"{len(blocks)} blocks")
        if blocks[0]["type"] != "header" or len(blocks[0]["text"]["text"]) > 150:
            problems.append("header")
        for block in blocks:
            if block["type"] == "section" and len(block["text"]["text"]) > 3000:
                problems.append("section too long")
        return Answer(200, "ok")

    receiver.route("/slack", check)
    long_subject = "Deployed " + "x" * 300
    long_body = "\n".join(f"Line {n}: " + "y" * 2900 for n in range(80))
    announce(project, subject=long_subject, body=long_body)
    assert drain() == ["delivered"]
    assert problems == []
    body = json.loads(receiver.requests[0].body)
    assert body["blocks"][0]["text"]["text"].endswith("…")
    assert len(body["blocks"]) == 50
    assert body["blocks"][-2]["text"]["text"].endswith("…")


def test_teams__a_message_with_an_adaptive_card(project, people, receiver):
    webhook(project, people, receiver.url("/teams"), kind="teams", name="Teams")
    receiver.route("/teams", Answer(202))
    announce(project, subject="Canary passed", body="Error rate 0.1 %", url="/releases/x/")
    assert drain() == ["delivered"]
    body = json.loads(receiver.requests[0].body)
    assert body["type"] == "message"
    (attachment,) = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"]
    assert card["body"][0]["text"] == "Canary passed"
    assert card["actions"][0]["url"] == "https://shipcheck.example.com/releases/x/"


def test_fails_twice_then_succeeds__delivered_once_with_one_delivery_id(project, people, receiver):
    webhook(project, people, receiver.url("/flaky"))
    answers = iter([Answer(500, "oops"), Answer(503), Answer(200)])
    receiver.route("/flaky", lambda seen: next(answers))
    announce(project)
    assert drain() == ["retrying", "retrying", "delivered"]
    row = Delivery.objects.get()
    assert row.status == DeliveryStatus.DELIVERED and row.attempts == 3
    ids = {seen.headers["webhook-id"] for seen in receiver.requests}
    assert ids == {str(row.uid)}
    assert receiver.hits["/flaky"] == 3
    assert drain() == []  # nothing left to send: never a fourth request
    assert receiver.hits["/flaky"] == 3


def test_retry_delay__grows_with_jitter_up_to_the_cap(settings):
    settings.SHIPCHECK_NOTIFY_RETRY_BASE_SECONDS = 10
    settings.SHIPCHECK_NOTIFY_RETRY_CAP_SECONDS = 60
    delays = [services.backoff_seconds(n) for n in (1, 2, 3, 8)]
    assert 5 <= delays[0] <= 10
    assert 10 <= delays[1] <= 20
    assert 20 <= delays[2] <= 40
    assert 30 <= delays[3] <= 60


def test_gives_up_after_the_maximum__a_dead_letter_sent_again_later(project, people, receiver):
    webhook(project, people, receiver.url("/down"))
    receiver.route("/down", Answer(500))
    announce(project)
    drain()
    row = Delivery.objects.get()
    assert row.status == DeliveryStatus.DEAD and row.attempts == 4
    assert "Gave up after 4 attempts" in row.last_error
    receiver.route("/down", Answer(200))
    services.delivery_resend(delivery=row, actor=people.alice)
    assert drain() == ["delivered"]
    row.refresh_from_db()
    assert row.status == DeliveryStatus.DELIVERED
    assert {s.headers["webhook-id"] for s in receiver.requests} == {str(row.uid)}


def test_send_again__only_dead_letters_and_only_by_managers(project, people, receiver):
    webhook(project, people, receiver.url("/ok"))
    receiver.route("/ok", Answer(200))
    announce(project)
    drain()
    row = Delivery.objects.get()
    with pytest.raises(Conflict, match="Only dead letters"):
        services.delivery_resend(delivery=row, actor=people.alice)
    Delivery.objects.filter(pk=row.pk).update(status=DeliveryStatus.DEAD)
    from core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.delivery_resend(delivery=row, actor=people.bob)


def test_410__disables_the_channel_and_tells_the_admins(project, people, receiver):
    saved = webhook(project, people, receiver.url("/gone"))
    receiver.route("/gone", Answer(410, "gone"))
    announce(project, subject="first")
    announce(project, subject="second")
    outcomes = drain()
    assert outcomes[0] == "dead"
    channel = Channel.objects.get(pk=saved.channel.pk)
    assert not channel.enabled and "410" in channel.disabled_reason
    assert receiver.hits["/gone"] == 1  # the second row was parked, not sent
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DEAD}
    notice = Notification.objects.get(recipient=people.adam)
    assert "turned off" in notice.subject and notice.urgent
    # A turned-off channel gets nothing new, and its dead letters wait for it.
    announce(project, subject="third")
    assert Delivery.objects.count() == 2
    with pytest.raises(Conflict, match="turned off"):
        services.delivery_resend(delivery=Delivery.objects.first(), actor=people.adam)


def test_slack_archived_channel__disables_it(project, people, receiver):
    saved = webhook(project, people, receiver.url("/slack"), kind="slack", name="#old")
    receiver.route("/slack", Answer(404, "channel_is_archived"))
    announce(project)
    assert drain() == ["dead"]
    assert not Channel.objects.get(pk=saved.channel.pk).enabled


def test_429__waits_as_long_as_retry_after_says(project, people, receiver):
    webhook(project, people, receiver.url("/busy"), kind="slack", name="#busy")
    receiver.route("/busy", Answer(429, "rate_limited", headers={"Retry-After": "30"}))
    announce(project)
    before = timezone.now()
    assert drain(rounds=1) == ["retrying"]
    row = Delivery.objects.get()
    wait = (row.next_attempt_at - before).total_seconds()
    assert 29 <= wait <= 32
    assert "429" in row.last_error
    assert services.delivery_attempt(delivery_id=row.pk) == "skipped"  # not due yet


def test_hanging_receiver__deadline_then_retried(project, people, receiver):
    webhook(project, people, receiver.url("/slow"))
    answers = iter([Answer(200, delay_seconds=3), Answer(200)])
    receiver.route("/slow", lambda seen: next(answers))
    announce(project)
    assert drain(rounds=1) == ["retrying"]
    row = Delivery.objects.get()
    assert "No complete answer within 1 s" in row.last_error
    assert drain() == ["delivered"]


def test_redirect__not_followed_recorded_and_retried(project, people, receiver):
    webhook(project, people, receiver.url("/moved"))
    receiver.route("/moved", Answer(302, headers={"Location": receiver.url("/elsewhere")}))
    receiver.route("/elsewhere", Answer(200))
    announce(project)
    assert drain(rounds=1) == ["retrying"]
    row = Delivery.objects.get()
    assert "redirect" in row.last_error and row.last_status_code == 302
    assert receiver.hits["/elsewhere"] == 0


def test_rolled_back_change__writes_and_sends_nothing(
    project, people, receiver, django_capture_on_commit_callbacks
):
    webhook(project, people, receiver.url("/hook"))
    receiver.route("/hook", Answer(200))
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        announce(project)
        assert Delivery.objects.count() == 1
        raise RuntimeError("the change failed")
    assert Delivery.objects.count() == 0
    assert callbacks == []
    assert receiver.hits["/hook"] == 0


def test_committed_change__queues_its_rows_after_commit(
    project, people, receiver, django_capture_on_commit_callbacks
):
    webhook(project, people, receiver.url("/hook"))
    receiver.route("/hook", Answer(200))
    with django_capture_on_commit_callbacks(execute=True):
        announce(project)
    # Celery runs eagerly in the tests: the task ran on commit.
    assert Delivery.objects.get().status == DeliveryStatus.DELIVERED
    assert receiver.hits["/hook"] == 1


def test_claim__one_worker_wins_and_a_dead_workers_row_is_taken_after_its_lease(
    project, people, receiver
):
    webhook(project, people, receiver.url("/hook"))
    announce(project)
    row = Delivery.objects.get()
    assert services.delivery_claim(delivery_id=row.pk) is True
    assert services.delivery_claim(delivery_id=row.pk) is False
    Delivery.objects.filter(pk=row.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    assert services.delivery_claim(delivery_id=row.pk) is True
    row.refresh_from_db()
    assert row.attempts == 2 and row.status == DeliveryStatus.SENDING


def test_sweep__finds_rows_whose_message_was_lost(project, people, receiver):
    webhook(project, people, receiver.url("/hook"))
    receiver.route("/hook", Answer(200))
    for n in range(3):
        announce(project, subject=f"n{n}")  # the test transaction never commits: no task queued
    receiver.route("/hook", Answer(200))
    receiver.route("/down", Answer(500))
    assert services.deliveries_drain() == 3
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}
    assert services.deliveries_drain() == 0
    assert receiver.hits["/hook"] == 3


@pytest.mark.parametrize(
    "url, message",
    [
        ("http://169.254.169.254/latest/", "metadata"),
        ("http://10.1.2.3/hook", "private"),
        ("ftp://example.com/hook", "Only http"),
        ("https://exa mple.com/", "spaces"),
        ("not a url", "spaces"),
    ],
)
def test_channel__bad_or_internal_urls_are_refused(project, people, settings, url, message):
    settings.SHIPCHECK_FETCH_ALLOWLIST = []
    with pytest.raises(ValidationFailed, match=message):
        webhook(project, people, url)
    assert not Channel.objects.exists()


def test_channel__only_admins_and_release_managers_configure(project, people, receiver):
    from core.exceptions import PermissionDenied

    for person in (people.bob, people.aud, people.olga):
        with pytest.raises(PermissionDenied):
            services.channel_create(
                project=project,
                actor=person,
                kind="webhook",
                name="x",
                url=receiver.url("/x"),
                audiences=["team"],
            )
    assert not Channel.objects.exists()
    saved = services.channel_create(
        project=project,
        actor=people.alice,
        kind="webhook",
        name="x",
        url=receiver.url("/x"),
        audiences=["team"],
    )
    assert saved.channel.pk and saved.secret
