from __future__ import annotations

import pytest
from django.core.cache import cache

from flags.services import flag_create, sdk_key_create


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def prod(envs):
    return envs["production"]


@pytest.fixture
def flag(people, prod):
    return flag_create(
        environment=prod,
        actor=people.alice,
        key="fast-checkout",
        enabled=True,
        rollout=10,
        beta_testers=["beta-1", "beta-2"],
    )


@pytest.fixture
def sdk_key(people, prod):
    _row, raw = sdk_key_create(environment=prod, actor=people.adam, name="checkout service")
    return raw


@pytest.fixture
def allow_loopback(settings):
    settings.SHIPCHECK_FETCH_ALLOWLIST = ["127.0.0.1"]


@pytest.fixture
def server():
    from tests.monitoring.servers import StubServer

    stub = StubServer()
    yield stub
    stub.stop()


@pytest.fixture
def health(server):
    """A health endpoint whose answer a test flips with ``health.bad = True``."""
    from types import SimpleNamespace

    from tests.monitoring.servers import Answer

    state = SimpleNamespace(bad=False)
    server.route("/health", lambda seen: Answer(500 if state.bad else 200, {"ok": not state.bad}))
    server.route("/hook", lambda seen: Answer(200, {"rolled_back": True}))
    state.url = server.url("/health")
    state.hook_url = server.url("/hook")
    state.server = server
    return state


@pytest.fixture
def watched(people, prod, health, allow_loopback):
    from monitoring.services import check_create

    return check_create(
        environment=prod, kind="health", actor=people.adam, name="api health", url=health.url
    )
