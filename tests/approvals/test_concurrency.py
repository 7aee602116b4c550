"""Many people deciding at the same moment, with real threads on PostgreSQL.

SQLite serialises every writer (IMMEDIATE transactions), so the race these
tests look for cannot happen there; they run where it can.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from approvals.choices import ApprovalState
from approvals.models import Approval
from approvals.services import approval_decide
from audit.models import AuditEvent
from audit.selectors import audit_chain_verify
from projects.choices import Role
from releases.gates import gate_evaluate
from tests.approvals.conftest import grant
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL: SQLite serialises writers"
    ),
]

THREADS = 20


def _race(calls):
    """Run every call at once (a barrier releases them together); return results and errors."""
    barrier = threading.Barrier(len(calls))
    results, errors = [], []
    lock = threading.Lock()

    def run(call):
        try:
            barrier.wait(timeout=30)
            value = call()
            with lock:
                results.append(value)
        except Exception as exc:  # noqa: BLE001 - collected and asserted on below
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, errors


def _approve(release, environment, person):
    return lambda: approval_decide(
        release=release,
        kind="deployment",
        decision="approve",
        environment=environment,
        actor=person,
    )


def test_twenty_people_approving_at_once__count_exactly_once_each(staged, envs, project):
    approvers = [
        grant(project, UserFactory(username=f"lead{n:02d}"), Role.APPROVER) for n in range(THREADS)
    ]
    production = envs["production"]
    results, errors = _race([_approve(staged, production, person) for person in approvers])
    assert errors == []
    assert len({a.pk for a in results}) == THREADS
    assert (
        Approval.objects.filter(state=ApprovalState.ACTIVE, environment=production).count()
        == THREADS
    )
    assert AuditEvent.objects.filter(action="approval.approved").count() == THREADS
    opened = AuditEvent.objects.filter(
        action="approvals.gate_opened", data__gate="deployment_approvals"
    )
    assert opened.count() == 1
    gate = next(
        g
        for g in gate_evaluate(release=staged, environment=production).gates
        if g.code == "deployment_approvals"
    )
    assert gate.state == "open"
    assert gate.reason.startswith(f"{THREADS} of 2 production approvals")
    count, problem = audit_chain_verify()
    assert problem is None
    assert count == AuditEvent.objects.count()


def test_one_person_approving_twenty_times_at_once__is_one_decision(staged, envs, people):
    production = envs["production"]
    results, errors = _race([_approve(staged, production, people.ada) for _ in range(THREADS)])
    assert errors == []
    assert len(results) == THREADS
    assert {a.pk for a in results} == {Approval.objects.get().pk}
    assert AuditEvent.objects.filter(action="approval.approved").count() == 1
    assert not AuditEvent.objects.filter(
        action="approvals.gate_opened", data__gate="deployment_approvals"
    ).exists()
    count, problem = audit_chain_verify()
    assert problem is None and count == AuditEvent.objects.count()


def test_approving_and_rejecting_at_once__leaves_one_consistent_decision_each(
    staged, envs, people, project
):
    production = envs["production"]
    calls = [_approve(staged, production, people.ada) for _ in range(10)]
    calls += [
        lambda: approval_decide(
            release=staged,
            kind="deployment",
            decision="reject",
            environment=production,
            actor=people.ada,
            comment="No.",
        )
        for _ in range(10)
    ]
    results, errors = _race(calls)
    # Whichever came first wins; every other call either repeats it or is told to withdraw first.
    assert Approval.objects.filter(person=people.ada).count() == 1
    winner = Approval.objects.get(person=people.ada).decision
    assert all(a.decision == winner for a in results)
    assert all(getattr(e, "code", "") == "already_decided" for e in errors)
    assert len(results) + len(errors) == 20
    assert (
        AuditEvent.objects.filter(action__in=["approval.approved", "approval.rejected"]).count()
        == 1
    )
