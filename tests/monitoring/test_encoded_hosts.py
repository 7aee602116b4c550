"""Percent-encoded hosts are refused when a check or the rollback hook is saved.

The same validator serves the health check, the metric check and the rollback webhook, in
the pages and the API alike; each encoded form is refused with the sentence its plain form
gets, and nothing is saved.
"""

from __future__ import annotations

import pytest

from core.exceptions import ValidationFailed
from monitoring.choices import CheckKind
from monitoring.models import HealthCheck, MetricCheck
from monitoring.services import check_create, policy_update

# (encoded, the plain address it stands for)
VECTORS = [
    ("http://%31%32%37.0.0.1:8312/", "http://127.0.0.1:8312/"),
    ("http://127%2E0%2E0%2E1/", "http://127.0.0.1/"),
    ("http://%6c%6f%63%61%6c%68%6f%73%74:8312/health", "http://localhost:8312/health"),
    ("http://%6C%6F%63%61%6C%68%6F%73%74/", "http://localhost/"),
    ("http://127.0.0.1%00.x/", "http://127.0.0.1/"),
    ("http://%31%30.0.0.5/", "http://10.0.0.5/"),
    ("http://169.254.169.254%00.example.com/", "http://169.254.169.254/"),
]


def _refusal(save) -> str:
    with pytest.raises(ValidationFailed) as raised:
        save()
    details = raised.value.details
    return details.get("url") or details.get("rollback_hook_url") or raised.value.message


def _health(environment, actor, url):
    return lambda: check_create(
        environment=environment,
        kind=CheckKind.HEALTH,
        actor=actor,
        name="Encoded",
        url=url,
        expected_statuses=[200],
    )


def _metric(environment, actor, url):
    return lambda: check_create(
        environment=environment,
        kind=CheckKind.METRIC,
        actor=actor,
        name="Encoded",
        url=url,
        query="latency",
        max_value=500,
    )


def _hook(environment, actor, url):
    return lambda: policy_update(environment=environment, actor=actor, rollback_hook_url=url)


@pytest.mark.parametrize("save", [_health, _metric, _hook], ids=["health", "metric", "hook"])
@pytest.mark.parametrize(("encoded", "plain"), VECTORS)
def test_encoded_host__refused_with_the_plain_address_message(
    save, encoded, plain, envs, people, settings
):
    settings.SHIPCHECK_FETCH_ALLOWLIST = []
    production = envs["production"]

    expected = _refusal(save(production, people.adam, plain))
    message = _refusal(save(production, people.adam, encoded))

    assert message == expected
    assert message.startswith("Refused:")
    assert not HealthCheck.objects.exists() and not MetricCheck.objects.exists()


def test_encoded_host__public_name__refused_too(envs, people, settings):
    settings.SHIPCHECK_FETCH_ALLOWLIST = []

    message = _refusal(_health(envs["production"], people.adam, "http://%65xample.com/health"))

    assert "percent-encoding" in message


def test_encoded_host__allowlisted_plain_host__still_refused_encoded(envs, people, settings):
    """The allowlist names hosts as written: an encoded spelling of one is not on it."""
    settings.SHIPCHECK_FETCH_ALLOWLIST = ["127.0.0.1"]

    message = _refusal(_health(envs["production"], people.adam, "http://%31%32%37.0.0.1:8312/"))

    assert "percent-encoding" in message
