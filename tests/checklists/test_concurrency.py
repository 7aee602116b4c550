"""Two people ticking the same item at the same moment record one tick (PostgreSQL, real threads)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction

from audit.models import AuditEvent
from checklists.choices import ItemStatus
from checklists.services import item_tick, item_untick
from releases.services import release_promote
from tests.checklists.helpers import deploy, item_named

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL row locks and real threads"
    ),
]


def _in_thread(target, results, key):
    def run():
        try:
            results[key] = target()
        except Exception as exc:  # noqa: BLE001 - reported by the test
            results[key] = exc
        finally:
            connections.close_all()

    return threading.Thread(target=run)


def test_simultaneous_ticks__of_the_same_item__record_exactly_one(small_release, people):
    item_id = item_named(small_release, "Regression suite green").pk
    barrier = threading.Barrier(2)
    results: dict = {}

    def tick(user, evidence):
        def go():
            item = item_named(small_release, "Regression suite green")
            barrier.wait()
            return item_tick(item=item, actor=user, evidence=evidence)

        return go

    threads = [
        _in_thread(tick(people.quinn, "run 1"), results, "quinn"),
        _in_thread(tick(people.alice, "run 2"), results, "alice"),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(isinstance(r, Exception) for r in results.values()), results
    events = AuditEvent.objects.filter(action="checklist.item_ticked", object_id=str(item_id))
    assert events.count() == 1
    winner = events.get().actor_label
    final = item_named(small_release, "Regression suite green")
    assert final.completed_by.username == winner
    # Both callers got the item as it ended up: the loser sees the winner's tick.
    assert {r.completed_by.username for r in results.values()} == {winner}


def test_tick__waits_for_a_tick_in_flight__and_then_changes_nothing(small_release, people):
    """A holds the row inside its transaction; B's tick waits on the lock, then finds it done."""
    holding, release_hold = threading.Event(), threading.Event()
    results: dict = {}

    def first():
        with transaction.atomic():
            ticked = item_tick(
                item=item_named(small_release, "Rollback rehearsed"),
                actor=people.alice,
                note="first",
            )
            holding.set()
            release_hold.wait(timeout=10)
            return ticked

    def second():
        holding.wait(timeout=10)
        return item_tick(
            item=item_named(small_release, "Rollback rehearsed"), actor=people.alice, note="second"
        )

    a, b = _in_thread(first, results, "a"), _in_thread(second, results, "b")
    a.start()
    b.start()
    time.sleep(0.5)  # B is now blocked on A's row lock
    assert b.is_alive()
    release_hold.set()
    a.join(timeout=30)
    b.join(timeout=30)
    assert not any(isinstance(r, Exception) for r in results.values()), results
    final = item_named(small_release, "Rollback rehearsed")
    assert final.note == "first"
    assert AuditEvent.objects.filter(action="checklist.item_ticked").count() == 1


def test_untick_and_promotion__never_both_win(small_release, people, envs, checklist_gates):
    """Unticking locks the release like a promotion does: either the untick or the promotion sees the other."""
    from checklists.services import item_mark_not_applicable
    from releases.exceptions import GateBlocked
    from releases.models import Deployment

    item_tick(item=item_named(small_release, "Release branch cut"), actor=people.alice)
    deploy(small_release, envs["dev"], people.bob)
    item_mark_not_applicable(
        item=item_named(small_release, "Regression suite green"), actor=people.alice, reason="n/a"
    )
    barrier = threading.Barrier(2)
    results: dict = {}

    def untick():
        item = item_named(small_release, "Release branch cut")
        barrier.wait()
        return item_untick(item=item, actor=people.alice)

    def promote():
        barrier.wait()
        return release_promote(release=small_release, environment=envs["staging"], actor=people.bob)

    threads = [_in_thread(untick, results, "untick"), _in_thread(promote, results, "promote")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    unticked = not isinstance(results["untick"], Exception)
    promoted = not isinstance(results["promote"], Exception)
    assert unticked != promoted, results
    if promoted:
        assert item_named(small_release, "Release branch cut").status == ItemStatus.DONE
    else:
        assert isinstance(results["promote"], GateBlocked)
        assert not Deployment.objects.filter(environment=envs["staging"]).exists()
