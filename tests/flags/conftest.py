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
