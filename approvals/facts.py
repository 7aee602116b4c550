"""What the approval rules know about one release, each part loaded at most once.

``ReleaseFacts`` is the handful of queries behind every answer of
``approvals.requirements``: the gates, the release page panel, the API and the
services read it, so none of them repeats a query per approval or environment.
"""

from __future__ import annotations

from functools import cached_property

from django.utils import timezone

from approvals.choices import ApprovalState
from approvals.models import Approval, ApprovalPolicy, ApprovalRequest, GoNoGoMeeting
from projects.models import Environment, Membership
from releases.choices import DeploymentStatus
from releases.models import Deployment, Release


def person_name(user) -> str:
    if user is None:
        return "someone"
    return user.get_full_name() or user.get_username()


def names(people) -> str:
    return ", ".join(person_name(p) for p in people)


class ReleaseFacts:
    """What the approval rules look at for one release, each part loaded at most once.

    ``deployments`` and ``environments`` may be handed over by a caller that
    already has them (the gate context does).
    """

    def __init__(
        self,
        release: Release,
        *,
        environments: list[Environment] | None = None,
        deployments: list[Deployment] | None = None,
        now=None,
        with_requests: bool = False,
    ):
        self.release = release
        self.now = now or timezone.now()
        # Approval requests matter to pages (who asked, when), not to gates.
        self.with_requests = with_requests
        if environments is not None:
            self.__dict__["environments"] = environments
        if deployments is not None:
            self.__dict__["deployments"] = deployments

    @cached_property
    def environments(self) -> list[Environment]:
        # The promotion order: active environments only (retired ones left it).
        return list(
            Environment.objects.filter(
                project_id=self.release.project_id, retired_at__isnull=True
            ).order_by("order")
        )

    @cached_property
    def deployments(self) -> list[Deployment]:
        return list(Deployment.objects.filter(release=self.release).order_by("created_at", "id"))

    @cached_property
    def saved_policies(self) -> dict[int, ApprovalPolicy]:
        return {
            p.environment_id: p
            for p in ApprovalPolicy.objects.filter(environment__project_id=self.release.project_id)
        }

    def policy(self, environment: Environment) -> ApprovalPolicy:
        return self.saved_policies.get(environment.pk) or ApprovalPolicy.default_for(environment)

    @cached_property
    def approvals(self) -> list[Approval]:
        return list(
            Approval.objects.filter(release=self.release).select_related("person", "environment")
        )

    @cached_property
    def members(self) -> dict[int, tuple]:
        """user id → (user, frozenset of roles) for everyone in the release's project."""
        found: dict[int, tuple] = {}
        for membership in Membership.objects.filter(
            project_id=self.release.project_id
        ).select_related("user"):
            user, roles = found.get(membership.user_id, (membership.user, frozenset()))
            found[membership.user_id] = (user, roles | {membership.role})
        return dict(sorted(found.items(), key=lambda item: item[1][0].get_username()))

    @cached_property
    def meetings(self) -> list[GoNoGoMeeting]:
        return list(GoNoGoMeeting.objects.filter(release=self.release).select_related("decided_by"))

    @cached_property
    def requests(self) -> list[ApprovalRequest]:
        return list(
            ApprovalRequest.objects.filter(release=self.release).select_related("requested_by")
        )

    @property
    def deployer_ids(self) -> set[int]:
        return {d.deployed_by_id for d in self.deployments if d.deployed_by_id}

    def succeeded_in(self, environment: Environment) -> bool:
        return any(
            d.environment_id == environment.pk and d.status == DeploymentStatus.SUCCEEDED
            for d in self.deployments
        )

    def previous(self, environment: Environment) -> Environment | None:
        earlier = [e for e in self.environments if e.order < environment.order]
        return earlier[-1] if earlier else None

    def active(self, kind: str, environment: Environment | None) -> list[Approval]:
        env_id = environment.pk if environment is not None else None
        return [
            a
            for a in self.approvals
            if a.state == ApprovalState.ACTIVE and a.kind == kind and a.environment_id == env_id
        ]
