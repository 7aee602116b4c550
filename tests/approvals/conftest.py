"""Helpers for the approvals tests: a release that reached staging, and quick decisions."""

from __future__ import annotations

import pytest

from approvals.choices import ApprovalKind, Decision
from approvals.services import approval_decide
from projects.choices import Role
from projects.models import Membership
from projects.permissions import forget_roles
from releases.services import deployment_finish, release_promote


def deploy(release, environment, actor, ok=True):
    deployment = release_promote(release=release, environment=environment, actor=actor)
    return deployment_finish(deployment=deployment, succeeded=ok, actor=actor)


def grant(project, user, *roles):
    for role in roles:
        Membership.objects.get_or_create(project=project, user=user, role=role)
    forget_roles(user)
    return user


def approve(release, person, kind=ApprovalKind.DEPLOYMENT, environment=None, **kwargs):
    return approval_decide(
        release=release,
        kind=kind,
        decision=Decision.APPROVE,
        environment=environment,
        actor=person,
        **kwargs,
    )


def reject(release, person, comment, kind=ApprovalKind.DEPLOYMENT, environment=None):
    return approval_decide(
        release=release,
        kind=kind,
        decision=Decision.REJECT,
        environment=environment,
        actor=person,
        comment=comment,
    )


@pytest.fixture
def only_approval_gates(gates_only):
    """Keep other apps' gates (checklists, monitoring) out: these tests are about approvals."""
    gates_only("approvals")


@pytest.fixture
def staged(release, envs, people, only_approval_gates):
    """Release 2.4.0 deployed successfully to dev and staging by bob (the engineer)."""
    deploy(release, envs["dev"], people.bob)
    deploy(release, envs["staging"], people.bob)
    release.refresh_from_db()
    return release


@pytest.fixture
def cleared(staged, envs, people):
    """Everything production asks for except the go/no-go: QA, scope and two approvals."""
    approve(staged, people.quinn, ApprovalKind.QA_SIGNOFF, envs["staging"])
    approve(staged, people.pat, ApprovalKind.SCOPE)
    approve(staged, people.ada, environment=envs["production"])
    approve(staged, people.abe, environment=envs["production"])
    return staged


@pytest.fixture
def approver_role():
    return Role.APPROVER
