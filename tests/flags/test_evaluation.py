"""Shipcheck's bucketing, OFREP and the Unleash client API agree with the official SDKs."""

from __future__ import annotations

import json

import mmh3
from django.test import Client

from flags.bucketing import FlagRule, bucket, evaluate
from flags.models import SdkKey
from flags.services import flag_update, sdk_key_revoke

USERS = [f"user-{n}" for n in range(10_000)]


def _ofrep(client: Client, key: str, sdk_key: str, context, path_key="fast-checkout"):
    return client.post(
        f"/ofrep/v1/evaluate/flags/{path_key}",
        data=json.dumps({"context": context}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {sdk_key}",
    )


def test_bucket__matches_unleash_normalisation():
    # Unleash's clients: murmurhash3 x86 32-bit, seed 0, unsigned, % 100 + 1.
    for user in USERS[:500]:
        raw = mmh3.hash(f"fast-checkout:{user}", 0, signed=False)
        assert bucket("fast-checkout", user) == raw % 100 + 1
    signed_negative = [u for u in USERS[:500] if mmh3.hash(f"g:{u}", 0) < 0]
    assert signed_negative, "the signed hash differs for some users: the unsigned one is needed"


def test_rollout__raising_only_adds_users_and_shares_hold():
    rule = lambda p: FlagRule("f", True, p, "userId", "f", frozenset())  # noqa: E731
    previous: set[str] = set()
    for percent in (10, 25, 50, 100):
        on = {u for u in USERS if evaluate(rule(percent), u, u).value}
        assert previous <= on
        assert abs(len(on) / len(USERS) * 100 - percent) <= 1
        previous = on
    assert not any(evaluate(rule(0), u, u).value for u in USERS[:200])


def test_unleash_sdk_and_ofrep_equal_shipcheck_for_10000_users(live_server, people, flag, sdk_key):
    from UnleashClient import UnleashClient

    client = Client()
    previous: set[str] = set()
    for percent in (10, 25, 50, 100):
        flag = flag_update(flag=flag, actor=people.alice, rollout=percent)
        sdk = UnleashClient(
            url=f"{live_server.url}/api",
            app_name=f"shipcheck-test-{percent}",
            instance_id=f"test-{percent}",
            custom_headers={"Authorization": sdk_key},
            disable_metrics=True,
            refresh_interval=3600,
            cache_directory=None,
        )
        sdk.initialize_client()
        try:
            rule = FlagRule(
                flag.key, True, percent, "userId", flag.key, frozenset(flag.beta_testers)
            )
            ours = {u: evaluate(rule, u, u).value for u in USERS}
            theirs = {u: sdk.is_enabled("fast-checkout", {"userId": u}) for u in USERS}
        finally:
            sdk.destroy()
        assert theirs == ours
        ofrep = client.post(
            "/ofrep/v1/evaluate/flags/fast-checkout",
            data=json.dumps({"context": {"targetingKey": USERS[0]}}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {sdk_key}",
        )
        assert ofrep.status_code == 200
        for user in USERS:  # every id through OFREP too
            answer = _ofrep(client, "fast-checkout", sdk_key, {"targetingKey": user}).json()
            assert answer["value"] is ours[user], user
        on = {u for u, value in ours.items() if value}
        assert abs(len(on) / len(USERS) * 100 - percent) <= 1
        assert previous <= on
        previous = on


def test_beta_testers_are_on_at_zero_percent_in_every_client(live_server, people, flag, sdk_key):
    from UnleashClient import UnleashClient

    flag_update(flag=flag, actor=people.alice, rollout=0)
    sdk = UnleashClient(
        url=f"{live_server.url}/api",
        app_name="beta",
        custom_headers={"Authorization": sdk_key},
        disable_metrics=True,
        refresh_interval=3600,
    )
    sdk.initialize_client()
    try:
        assert sdk.is_enabled("fast-checkout", {"userId": "beta-1"})
        assert not sdk.is_enabled("fast-checkout", {"userId": "user-1"})
    finally:
        sdk.destroy()
    answer = _ofrep(Client(), "fast-checkout", sdk_key, {"targetingKey": "beta-2"}).json()
    assert answer == {
        "key": "fast-checkout",
        "value": True,
        "reason": "TARGETING_MATCH",
        "variant": "on",
        "metadata": {"rollout": 0},
    }


def test_openfeature_sdk_with_ofrep_provider_reads_the_flags(live_server, people, flag, sdk_key):
    from openfeature import api
    from openfeature.contrib.provider.ofrep import OFREPProvider
    from openfeature.evaluation_context import EvaluationContext

    flag_update(flag=flag, actor=people.alice, rollout=50)
    rule = FlagRule(flag.key, True, 50, "userId", flag.key, frozenset(flag.beta_testers))
    api.set_provider(
        OFREPProvider(
            base_url=live_server.url,
            headers_factory=lambda: {"Authorization": f"Bearer {sdk_key}"},
        )
    )
    client = api.get_client()
    for user in USERS[:300]:
        value = client.get_boolean_value(
            "fast-checkout", False, EvaluationContext(targeting_key=user)
        )
        assert value is evaluate(rule, user, user).value
    details = client.get_boolean_details(
        "missing-flag", False, EvaluationContext(targeting_key="u")
    )
    assert details.value is False
    assert details.error_code is not None and details.error_code.value == "FLAG_NOT_FOUND"


def test_ofrep_errors(client, flag, sdk_key, envs, people):
    from flags.services import sdk_key_create

    missing = _ofrep(client, "x", sdk_key, {"targetingKey": "u"}, path_key="nope")
    assert missing.status_code == 404
    assert missing.json()["errorCode"] == "FLAG_NOT_FOUND"
    no_target = _ofrep(client, "x", sdk_key, {})
    assert no_target.status_code == 400
    assert no_target.json()["errorCode"] == "TARGETING_KEY_MISSING"
    bad = client.post(
        "/ofrep/v1/evaluate/flags/fast-checkout",
        data='{"context": ["not", "an", "object"]}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {sdk_key}",
    )
    assert bad.status_code == 400 and bad.json()["errorCode"] == "INVALID_CONTEXT"
    typed = _ofrep(client, "x", sdk_key, {"targetingKey": 42})
    assert typed.status_code == 400 and typed.json()["errorCode"] == "INVALID_CONTEXT"
    garbage = client.post(
        "/ofrep/v1/evaluate/flags/fast-checkout",
        data="{not json",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {sdk_key}",
    )
    assert garbage.status_code == 400 and garbage.json()["errorCode"] == "PARSE_ERROR"
    assert _ofrep(client, "x", "scf_nope", {"targetingKey": "u"}).status_code == 401
    # A key of another environment reads that environment's flags only: this flag is unknown there.
    _row, staging_key = sdk_key_create(environment=envs["staging"], actor=people.adam, name="s")
    other = _ofrep(client, "x", staging_key, {"targetingKey": "u"})
    assert other.status_code == 404 and other.json()["errorCode"] == "FLAG_NOT_FOUND"


def test_ofrep_bulk_etag_and_change(client, people, flag, sdk_key):
    body = json.dumps({"context": {"targetingKey": "beta-1"}})
    first = client.post(
        "/ofrep/v1/evaluate/flags",
        data=body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {sdk_key}",
    )
    assert first.status_code == 200
    assert first.json()["flags"][0]["key"] == "fast-checkout"
    etag = first["ETag"]
    again = client.post(
        "/ofrep/v1/evaluate/flags",
        data=body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {sdk_key}",
        HTTP_IF_NONE_MATCH=etag,
    )
    assert again.status_code == 304
    flag_update(flag=flag, actor=people.alice, enabled=False)
    changed = client.post(
        "/ofrep/v1/evaluate/flags",
        data=body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {sdk_key}",
        HTTP_IF_NONE_MATCH=etag,
    )
    assert changed.status_code == 200
    assert changed.json()["flags"][0] == {
        "key": "fast-checkout",
        "value": False,
        "reason": "DISABLED",
        "variant": "off",
        "metadata": {"rollout": 10},
    }


def test_evaluation_makes_no_query_once_cached(client, flag, sdk_key, django_assert_num_queries):
    body = json.dumps({"context": {"targetingKey": "user-7"}})
    headers = {"HTTP_AUTHORIZATION": f"Bearer {sdk_key}"}
    client.post(
        "/ofrep/v1/evaluate/flags/fast-checkout",
        data=body,
        content_type="application/json",
        **headers,
    )
    with django_assert_num_queries(0):
        single = client.post(
            "/ofrep/v1/evaluate/flags/fast-checkout",
            data=body,
            content_type="application/json",
            **headers,
        )
        bulk = client.post(
            "/ofrep/v1/evaluate/flags", data=body, content_type="application/json", **headers
        )
        features = client.get("/api/client/features", HTTP_AUTHORIZATION=sdk_key)
    assert single.status_code == bulk.status_code == features.status_code == 200


def test_revoked_key_stops_at_once(client, people, flag, sdk_key):
    body = json.dumps({"context": {"targetingKey": "u"}})
    headers = {"HTTP_AUTHORIZATION": f"Bearer {sdk_key}"}
    assert (
        client.post(
            "/ofrep/v1/evaluate/flags/fast-checkout",
            data=body,
            content_type="application/json",
            **headers,
        ).status_code
        == 200
    )
    sdk_key_revoke(key=SdkKey.objects.get(), actor=people.adam)
    assert (
        client.post(
            "/ofrep/v1/evaluate/flags/fast-checkout",
            data=body,
            content_type="application/json",
            **headers,
        ).status_code
        == 401
    )


def test_unleash_format_and_sdk_start_calls(client, flag, sdk_key):
    features = client.get("/api/client/features", HTTP_AUTHORIZATION=sdk_key)
    feature = features.json()["features"][0]
    assert feature["name"] == "fast-checkout" and feature["enabled"] is True
    assert feature["strategies"] == [
        {"name": "userWithId", "parameters": {"userIds": "beta-1,beta-2"}},
        {
            "name": "flexibleRollout",
            "parameters": {"rollout": "10", "stickiness": "userId", "groupId": "fast-checkout"},
            "constraints": [],
        },
    ]
    assert (
        client.get(
            "/api/client/features", HTTP_AUTHORIZATION=sdk_key, HTTP_IF_NONE_MATCH=features["ETag"]
        ).status_code
        == 304
    )
    for path in ("/api/client/register", "/api/client/metrics"):
        assert (
            client.post(
                path, data="{}", content_type="application/json", HTTP_AUTHORIZATION=sdk_key
            ).status_code
            == 202
        )
        assert client.post(path, data="{}", content_type="application/json").status_code == 401
    assert client.get("/api/client/features").status_code == 401
