"""after_commit: a side effect that fails after commit is logged and never undoes the change."""

from __future__ import annotations

import logging
from functools import partial

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction

from core.oncommit import after_commit


def _broker_down(subject: str, *, to: list[str]) -> None:
    raise ConnectionError(f"cannot queue {subject!r} for {to}")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("func", [_broker_down, partial(_broker_down)], ids=["function", "partial"])
def test_failing_side_effect__is_logged__the_commit_stands(func, caplog):
    with caplog.at_level(logging.ERROR, logger="django.db.backends.base"), transaction.atomic():
        get_user_model().objects.create(username="kept")
        after_commit(func, "Deployed", to=["a@example.com"])
    assert get_user_model().objects.filter(username="kept").exists()
    assert "Error calling" in caplog.text and "in on_commit()" in caplog.text
    assert "cannot queue 'Deployed'" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_side_effect__runs_with_its_arguments_after_commit__not_after_rollback():
    calls: list[tuple] = []
    with transaction.atomic():
        after_commit(lambda *a, **k: calls.append((a, k)), 1, two=2)
        assert calls == []
    assert calls == [((1,), {"two": 2})]
    with pytest.raises(RuntimeError), transaction.atomic():
        after_commit(calls.append, "never")
        raise RuntimeError("rolled back")
    assert calls == [((1,), {"two": 2})]
