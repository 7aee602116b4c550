"""Idempotency-Key: replays, refusals, scope per caller, expiry, and concurrent retries."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from integrations.idempotency import idempotency_claim, idempotency_complete, request_fingerprint
from integrations.models import IdempotencyKey
from integrations.tasks import idempotency_keys_purge_task
from releases.models import Deployment, Release
from tests.integrations.conftest import Api

RELEASES = "/api/v1/ci/releases/"
KEY = {"Idempotency-Key": "5f0c8a4e-2b7d-4a51-9d65-0b1f0f3c9e11"}

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent transactions need PostgreSQL"
)


@pytest.mark.django_db
class TestReplay:
    def test_retry_with_same_key_and_body__replays_the_first_answer(self, api):
        first = api.post(RELEASES, {"version": "1.3.0"}, headers=KEY)
        second = api.post(RELEASES, {"version": "1.3.0"}, headers=KEY)
        assert first.status_code == second.status_code == 201
        assert second.json() == first.json()
        assert second["Idempotent-Replayed"] == "true"
        assert "Idempotent-Replayed" not in first
        assert Release.objects.count() == 1
        assert AuditEvent.objects.filter(action="release.created").count() == 1

    def test_same_json_with_other_spacing_and_key_order__still_replays(self, api):
        api.post(RELEASES, raw='{"version": "1.3.0", "title": "A"}', headers=KEY)
        second = api.post(RELEASES, raw='{ "title":"A","version":"1.3.0" }', headers=KEY)
        assert second.status_code == 201
        assert second["Idempotent-Replayed"] == "true"

    def test_same_key_with_another_body__is_422_and_runs_nothing(self, api):
        api.post(RELEASES, {"version": "1.3.0"}, headers=KEY)
        response = api.post(RELEASES, {"version": "1.4.0"}, headers=KEY)
        assert response.status_code == 422
        assert response.json()["error"] == "idempotency_key_reused"
        assert not Release.objects.filter(version="1.4.0").exists()

    def test_same_key_on_another_endpoint__is_422(self, api):
        api.post(RELEASES, {"version": "1.3.0"}, headers=KEY)
        response = api.post(f"{RELEASES}1.3.0/tickets/", {"version": "1.3.0"}, headers=KEY)
        assert response.status_code == 422
        assert response.json()["details"]["first_used_for"] == "POST /api/v1/ci/releases/"

    def test_keys_are_per_token__two_tokens_may_use_the_same_key(self, make_token):
        one, two = Api(make_token(name="one")), Api(make_token(name="two"))
        assert one.post(RELEASES, {"version": "1.3.0"}, headers=KEY).status_code == 201
        response = two.post(RELEASES, {"version": "1.4.0"}, headers=KEY)
        assert response.status_code == 201
        assert "Idempotent-Replayed" not in response
        assert Release.objects.count() == 2

    def test_keys_are_per_person_for_sessions(self, people):
        alice, adam = Client(), Client()
        alice.force_login(people.alice)
        adam.force_login(people.adam)
        assert (
            Api(client=alice)
            .post(RELEASES, {"project": "payments", "version": "1.3.0"}, headers=KEY)
            .status_code
            == 201
        )
        again = Api(client=alice).post(
            RELEASES, {"project": "payments", "version": "1.3.0"}, headers=KEY
        )
        assert again["Idempotent-Replayed"] == "true"
        other = Api(client=adam).post(
            RELEASES, {"project": "payments", "version": "1.4.0"}, headers=KEY
        )
        assert other.status_code == 201

    def test_refusals_are_replayed_too(self, api):
        first = api.post(RELEASES, {"version": "latest"}, headers=KEY)
        second = api.post(RELEASES, {"version": "latest"}, headers=KEY)
        assert first.status_code == second.status_code == 400
        assert second.json() == first.json()
        assert second["Idempotent-Replayed"] == "true"

    def test_gate_refusal_is_replayed__a_new_attempt_needs_a_new_key(self, api):
        api.post(RELEASES, {"version": "1.3.0"})
        body = {"environment": "staging", "status": "started"}
        assert api.post(f"{RELEASES}1.3.0/deployments/", body, headers=KEY).status_code == 409
        replay = api.post(f"{RELEASES}1.3.0/deployments/", body, headers=KEY)
        assert replay.status_code == 409
        assert replay["Idempotent-Replayed"] == "true"
        assert not Deployment.objects.exists()

    def test_rate_limited_answer__is_not_kept(self, api, settings):
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"token": "1/min"},
        }
        assert api.get("/api/v1/ci/whoami/").status_code == 200
        assert api.post(RELEASES, {"version": "1.3.0"}, headers=KEY).status_code == 429
        assert not IdempotencyKey.objects.exists()
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"token": "100/min"},
        }
        assert api.post(RELEASES, {"version": "1.3.0"}, headers=KEY).status_code == 201

    def test_revoked_token__gets_no_replay(self, api, people):
        from projects.models import ApiToken
        from projects.services import api_token_revoke

        api.post(RELEASES, {"version": "1.3.0"}, headers=KEY)
        api_token_revoke(token=ApiToken.objects.get(), actor=people.adam)
        assert api.post(RELEASES, {"version": "1.3.0"}, headers=KEY).status_code == 401

    @pytest.mark.parametrize(
        "key", ["", "   ", "k" * 256, "clé-été"], ids=["empty", "blank", "long", "non-ascii"]
    )
    def test_bad_key__is_400(self, api, key):
        response = api.post(RELEASES, {"version": "1.3.0"}, headers={"Idempotency-Key": key})
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_idempotency_key"
        assert not Release.objects.exists()

    def test_anonymous_request_with_key__is_just_401(self):
        response = Api().post(RELEASES, {"version": "1.3.0"}, headers=KEY)
        assert response.status_code == 401
        assert not IdempotencyKey.objects.exists()

    def test_key_held_by_a_running_request__answers_409_in_progress(self, api, settings):
        settings.SHIPCHECK_IDEMPOTENCY_WAIT_SECONDS = 0.2
        api.post(RELEASES, {"version": "1.2.0"}, headers={"Idempotency-Key": "warm-up"})
        record = IdempotencyKey.objects.get()
        fingerprint = request_fingerprint(
            method="POST", path=RELEASES, query="", body=b'{"version": "1.3.0"}'
        )
        now = timezone.now()
        IdempotencyKey.objects.create(
            scope=record.scope,
            key=KEY["Idempotency-Key"],
            fingerprint=fingerprint,
            method="POST",
            path=RELEASES,
            created_at=now,
            claimed_at=now,
        )
        response = api.post(RELEASES, {"version": "1.3.0"}, headers=KEY)
        assert response.status_code == 409
        assert response.json()["error"] == "idempotency_in_progress"
        assert response["Retry-After"] == "1"
        assert not Release.objects.filter(version="1.3.0").exists()

    def test_claim_of_a_request_that_died__is_taken_over(self, api, settings):
        api.post(RELEASES, {"version": "1.2.0"}, headers={"Idempotency-Key": "warm-up"})
        scope = IdempotencyKey.objects.get().scope
        fingerprint = request_fingerprint(
            method="POST", path=RELEASES, query="", body=b'{"version": "1.3.0"}'
        )
        long_ago = timezone.now() - timedelta(hours=1)
        IdempotencyKey.objects.create(
            scope=scope,
            key=KEY["Idempotency-Key"],
            fingerprint=fingerprint,
            method="POST",
            path=RELEASES,
            created_at=long_ago,
            claimed_at=long_ago,
        )
        response = api.post(RELEASES, {"version": "1.3.0"}, headers=KEY)
        assert response.status_code == 201
        assert IdempotencyKey.objects.get(key=KEY["Idempotency-Key"]).state == "done"

    def test_server_error_answer__gives_the_key_up_for_a_fresh_retry(self):
        claim = idempotency_claim(
            scope="token:1", key="k", fingerprint="f", method="POST", path="/api/x/"
        )
        idempotency_complete(
            record=claim.record, status=500, content_type="application/json", body=b"{}"
        )
        assert not IdempotencyKey.objects.exists()
        again = idempotency_claim(
            scope="token:1", key="k", fingerprint="f", method="POST", path="/api/x/"
        )
        assert again.outcome == "execute"


@pytest.mark.django_db
def test_purge__forgets_keys_older_than_24_hours_only(api, settings):
    settings.SHIPCHECK_IDEMPOTENCY_TTL_HOURS = 1  # below the promised minimum: 24 h still apply
    api.post(RELEASES, {"version": "1.3.0"}, headers={"Idempotency-Key": "old"})
    api.post(RELEASES, {"version": "1.4.0"}, headers={"Idempotency-Key": "recent"})
    IdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=25))
    IdempotencyKey.objects.filter(key="recent").update(
        created_at=timezone.now() - timedelta(hours=23)
    )
    assert idempotency_keys_purge_task.delay().get() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["recent"]
    assert idempotency_keys_purge_task.delay().get() == 0


def test_purge__is_scheduled_with_beat():
    from config.celery import app

    entry = app.conf.beat_schedule["integrations-idempotency-keys-purge"]
    assert entry["task"] == "integrations.tasks.idempotency_keys_purge_task"


# --- Concurrency (PostgreSQL) -------------------------------------------------------------


def _concurrently(count: int, send) -> list:
    """Run ``send()`` in ``count`` threads released at the same moment; return their answers."""
    barrier = threading.Barrier(count)
    answers: list = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            answers[index] = send()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_one_key__run_once_and_all_get_the_same_answer(make_token):
    token = make_token()

    def send():
        response = Api(token).post(
            RELEASES, {"version": "1.3.0", "title": "Saved cards"}, headers=KEY
        )
        return response.status_code, response.json()

    answers = _concurrently(6, send)
    statuses = [status for status, _ in answers]
    assert statuses == [201] * 6, answers
    assert all(body == answers[0][1] for _, body in answers)
    assert Release.objects.count() == 1
    assert AuditEvent.objects.filter(action="release.created").count() == 1
    assert IdempotencyKey.objects.get().state == "done"


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_deploy_starts_with_one_key__start_one_deployment(make_token, people, project):
    token = make_token()
    Api(token).post(RELEASES, {"version": "1.3.0"})

    def send():
        response = Api(token).post(
            f"{RELEASES}1.3.0/deployments/",
            {"environment": "dev", "status": "started"},
            headers=KEY,
        )
        return response.status_code, response.json()

    answers = _concurrently(5, send)
    assert [status for status, _ in answers] == [201] * 5, answers
    assert len({body["id"] for _, body in answers}) == 1
    assert Deployment.objects.count() == 1
    assert AuditEvent.objects.filter(action="deployment.started").count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_without_a_key__one_release_one_201(make_token):
    token = make_token()

    def send():
        return Api(token).post(RELEASES, {"version": "1.3.0"}).status_code

    statuses = _concurrently(5, send)
    assert sorted(statuses) == [200, 200, 200, 200, 201], statuses
    assert Release.objects.count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_duplicate_waiting_for_a_running_request__replays_its_answer_when_it_finishes(
    make_token, settings
):
    settings.SHIPCHECK_IDEMPOTENCY_WAIT_SECONDS = 10
    api = Api(make_token())
    api.post(RELEASES, {"version": "1.2.0"}, headers={"Idempotency-Key": "warm-up"})
    scope = IdempotencyKey.objects.get().scope
    body = b'{"version": "1.3.0"}'
    held = idempotency_claim(
        scope=scope,
        key=KEY["Idempotency-Key"],
        fingerprint=request_fingerprint(method="POST", path=RELEASES, query="", body=body),
        method="POST",
        path=RELEASES,
    )
    assert held.outcome == "execute"
    result = {}

    def waiter():
        try:
            response = api.post(RELEASES, raw=body, headers=KEY)
            result["status"], result["body"], result["replayed"] = (
                response.status_code,
                response.json(),
                response.get("Idempotent-Replayed"),
            )
        finally:
            connection.close()

    thread = threading.Thread(target=waiter)
    thread.start()
    thread.join(timeout=0.5)
    assert thread.is_alive(), "the duplicate should be waiting for the first request"
    idempotency_complete(
        record=held.record, status=201, content_type="application/json", body=b'{"first": true}'
    )
    thread.join(timeout=10)
    assert result == {"status": 201, "body": {"first": True}, "replayed": "true"}
    assert not Release.objects.filter(version="1.3.0").exists()
