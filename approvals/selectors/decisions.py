"""Reads behind decisions: a release's approval matrix, decisions, reviews and policies.

The matrix says what every environment asks of a release, what is given and
who may still decide; the ``*_get`` reads answer 404 for what the reader may not see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet

from approvals.choices import (
    ApprovalKind,
)
from approvals.facts import ReleaseFacts
from approvals.models import (
    Approval,
    ApprovalPolicy,
    EmergencyReview,
    GoNoGoMeeting,
)
from approvals.requirements import (
    GoNoGoState,
    Requirement,
    emergency_waiver,
    go_no_go_state,
    requirement_for,
    requirements_for,
)
from core.exceptions import NotFound
from projects.models import Environment, Project
from projects.principals import Caller
from projects.selectors import project_list
from releases.choices import ReleaseType
from releases.models import Deployment, Release


@dataclass
class EnvironmentColumn:
    environment: Environment
    policy: ApprovalPolicy
    requirements: list[Requirement]
    go_no_go: GoNoGoState | None
    waiver: str | None = None

    @property
    def satisfied(self) -> bool:
        return all(r.satisfied for r in self.requirements) and (
            self.go_no_go is None or self.go_no_go.satisfied
        )


@dataclass
class ApprovalMatrix:
    release: Release
    facts: ReleaseFacts
    columns: list[EnvironmentColumn]
    emergency: Requirement | None = None
    review: EmergencyReview | None = None
    history: list[Approval] = field(default_factory=list)

    @property
    def meetings(self) -> list[GoNoGoMeeting]:
        return sorted(self.facts.meetings, key=lambda m: (m.scheduled_for, m.pk), reverse=True)


def approval_matrix(
    *,
    release: Release,
    deployments: list[Deployment] | None = None,
    environments: list[Environment] | None = None,
) -> ApprovalMatrix:
    """What every environment asks of ``release``, what is given, who may still decide.

    A fixed number of queries whatever the number of environments, people or approvals.
    """
    facts = ReleaseFacts(
        release, deployments=deployments, environments=environments, with_requests=True
    )
    columns = []
    for environment in facts.environments:
        policy = facts.policy(environment)
        if not policy.asks_anything:
            continue
        state = go_no_go_state(facts, environment) if policy.requires_go_no_go else None
        columns.append(
            EnvironmentColumn(
                environment,
                policy,
                requirements_for(facts, environment),
                state,
                emergency_waiver(facts, environment),
            )
        )
    emergency = None
    review = None
    if release.type == ReleaseType.HOTFIX or release.is_emergency:
        production = next((e for e in facts.environments if e.is_production), None)
        if production is not None:
            emergency = requirement_for(facts, kind=ApprovalKind.EMERGENCY, subject=production)
        review = (
            EmergencyReview.objects.filter(release=release).select_related("completed_by").first()
        )
    history = sorted(facts.approvals, key=lambda a: (a.created_at, a.pk), reverse=True)
    return ApprovalMatrix(release, facts, columns, emergency, review, history)


def approval_list(*, user: Caller, filters: dict[str, Any] | None = None) -> QuerySet[Approval]:
    """Approval records in projects ``user`` may see, newest first."""
    qs = (
        Approval.objects.filter(release__project__in=project_list(user=user))
        .select_related("release", "environment", "person")
        .order_by("-created_at", "-id")
    )
    filters = filters or {}
    if filters.get("release"):
        qs = qs.filter(release_id=filters["release"])
    if filters.get("kind"):
        qs = qs.filter(kind=filters["kind"])
    if filters.get("state"):
        qs = qs.filter(state=filters["state"])
    return qs


def approval_get(*, user: Caller, pk: int | str) -> Approval:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound("No such approval.") from None
    approval = approval_list(user=user).select_related("release__project").filter(pk=pk).first()
    if approval is None:
        raise NotFound("No such approval.")
    return approval


def emergency_review_get(*, user: Caller, pk: int | str) -> EmergencyReview:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound("No such review.") from None
    review = (
        EmergencyReview.objects.filter(pk=pk, release__project__in=project_list(user=user))
        .select_related("release", "release__project")
        .first()
    )
    if review is None:
        raise NotFound("No such review.")
    return review


def policy_rows(*, project: Project) -> list[tuple[Environment, ApprovalPolicy]]:
    """Each environment of ``project`` in promotion order with its policy (saved or default)."""
    environments = list(Environment.objects.filter(project=project).order_by("order"))
    saved = {
        p.environment_id: p
        for p in ApprovalPolicy.objects.filter(environment__project=project).select_related(
            "updated_by"
        )
    }
    return [(e, saved.get(e.pk) or ApprovalPolicy.default_for(e)) for e in environments]


def project_for_admin(*, user: Caller, slug: str) -> Project:
    project = project_list(user=user).filter(slug=str(slug)[:60]).first()
    if project is None:
        raise NotFound("No such project.")
    return project


def release_for_decision(*, pk: int | str) -> Release:
    """Any release by id, for the decision services, which answer strangers with 404 themselves.

    The services must see an outsider's attempt to write it to the audit trail
    (``approval.denied``); callers show nothing of the release before the service ran.
    """
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound("No such release.") from None
    release = Release.objects.select_related("project").filter(pk=pk).first()
    if release is None:
        raise NotFound("No such release.")
    return release
