"""Shared fixtures: a project with people in every role (and an outsider).

Fixtures build on each other: ``project`` → ``people`` → ``release``.
"""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest
from django.db import connection

from projects.choices import Role
from projects.models import Membership
from tests.factories import ProjectFactory, UserFactory

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _audit_purge_allowed_for_test_flush():
    """Let the test runner empty the append-only audit table between tests (SQLite side)."""
    from audit.signals import PURGE_ALLOWED

    PURGE_ALLOWED["value"] = True
    yield
    PURGE_ALLOWED["value"] = True


@pytest.fixture(scope="module")
def demo_seeded_once(django_db_setup, django_db_blocker):
    """The demo, seeded once for all the tests of a module; answers seed_demo's output.

    For modules of non-transactional tests only: the seed runs in a transaction the module
    holds open, each test runs in a savepoint inside it (what it changes is undone after it),
    and the module's transaction is rolled back at the end. Seeding takes 15-35 s; a module
    of four tests saved three of them.
    """
    from io import StringIO

    from django.core.management import call_command
    from django.db import transaction
    from django.test import override_settings

    from config.celery import app

    out = StringIO()
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            eager, app.conf.task_always_eager = app.conf.task_always_eager, True
            try:
                with override_settings(CELERY_TASK_ALWAYS_EAGER=True):
                    call_command("seed_demo", stdout=out)
            finally:
                app.conf.task_always_eager = eager
            yield out.getvalue()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def _eager_celery(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from config.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def audit_guard_on():
    """Turn the append-only guard on for this test's connection, as in production."""
    from audit.signals import PURGE_ALLOWED

    PURGE_ALLOWED["value"] = False
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET shipcheck.audit_purge = 'off'")
    yield
    PURGE_ALLOWED["value"] = True
    if connection.vendor == "postgresql" and connection.connection is not None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SET shipcheck.audit_purge = 'on'")
        except Exception:  # noqa: BLE001 - the connection may be in an aborted transaction
            pass


@pytest.fixture
def project(db):
    return ProjectFactory(name="Payments", slug="payments")


@pytest.fixture
def other_project(db):
    return ProjectFactory(name="Other", slug="other")


def _person(project, username, *roles):
    user = UserFactory(username=username, first_name=username.split("_")[0].capitalize())
    for role in roles:
        Membership.objects.create(project=project, user=user, role=role)
    return user


@pytest.fixture
def people(project, other_project):
    """alice: release manager; bob: engineer; quinn: QA; pat: product owner;
    ada and abe: approvers; emma: emergency approver; aud: auditor; adam: admin;
    olga: member of another project only (the outsider)."""
    return SimpleNamespace(
        alice=_person(project, "alice", Role.RELEASE_MANAGER),
        bob=_person(project, "bob", Role.ENGINEER),
        quinn=_person(project, "quinn", Role.QA),
        pat=_person(project, "pat", Role.PRODUCT_OWNER),
        ada=_person(project, "ada", Role.APPROVER),
        abe=_person(project, "abe", Role.APPROVER),
        emma=_person(project, "emma", Role.EMERGENCY_APPROVER, Role.APPROVER),
        aud=_person(project, "aud", Role.AUDITOR),
        adam=_person(project, "adam", Role.ADMIN),
        olga=_person(other_project, "olga", Role.RELEASE_MANAGER, Role.ADMIN),
    )


@pytest.fixture
def envs(project):
    return {e.name: e for e in project.environments.all()}


@pytest.fixture
def release(people, project):
    from releases.services import release_create

    return release_create(
        project=project,
        version="2.4.0",
        title="Faster checkout",
        actor=people.alice,
        rollback_plan="Redeploy 2.3.1 and disable the `fast_checkout` flag.",
    )


@pytest.fixture
def gates_only(settings):
    """``gates_only("releases", "approvals")``: evaluate only those apps' promotion gates.

    Lets one app's tests reach production without satisfying every other
    app's gates; journeys across the whole product do not use it.
    """

    def _only(*apps: str):
        settings.SHIPCHECK_GATE_APPS = set(apps) | {"releases"}

    return _only
