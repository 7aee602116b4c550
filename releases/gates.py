"""Promotion gates: may this release enter this environment now?

``gate_evaluate`` is the one answer used by the release page, the API and
``release_promote``. Other apps add gates through ``releases.registry``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property

from django.conf import settings

from projects.models import Environment
from releases.choices import DEPLOYMENT_ACTIVE_STATES, DeploymentStatus, GateState, ReleaseStatus
from releases.models import Deployment, Release
from releases.registry import gate, registered_gates, waivers_for


@dataclass(frozen=True)
class GateResult:
    code: str
    title: str
    state: str
    reason: str
    # A gate that closes for a time (deploycalendar) says when it opens and what holds it.
    next_opening: datetime | None = None
    freeze: str = ""

    @property
    def is_open(self) -> bool:
        return self.state != GateState.CLOSED

    def as_dict(self) -> dict:
        answer: dict[str, str | None] = {
            "code": self.code,
            "title": self.title,
            "state": self.state,
            "reason": self.reason,
        }
        if self.next_opening is not None or self.freeze:
            answer["next_opening"] = (
                self.next_opening.astimezone(UTC).isoformat() if self.next_opening else None
            )
            answer["freeze"] = self.freeze
        return answer


def opened(code: str, title: str, reason: str) -> GateResult:
    return GateResult(code, title, GateState.OPEN.value, reason)


def closed(code: str, title: str, reason: str) -> GateResult:
    return GateResult(code, title, GateState.CLOSED.value, reason)


@dataclass
class GateContext:
    """What gates look at, loaded once and shared so evaluation stays a few queries."""

    release: Release
    environment: Environment
    cache: dict = field(default_factory=dict)

    @cached_property
    def environments(self) -> list[Environment]:
        """The project's promotion order: its active environments (retired ones left it)."""
        return list(
            Environment.objects.filter(project_id=self.release.project_id, retired_at__isnull=True)
            .select_related("project")
            .order_by("order")
        )

    @cached_property
    def previous_environment(self) -> Environment | None:
        # By place in the loaded list when the environment is in it (robust to a stale
        # ``order`` on the object passed in); a retired environment is compared by order.
        ids = [e.pk for e in self.environments]
        if self.environment.pk in ids:
            earlier = self.environments[: ids.index(self.environment.pk)]
        else:
            earlier = [e for e in self.environments if e.order < self.environment.order]
        return earlier[-1] if earlier else None

    @cached_property
    def release_deployments(self) -> list[Deployment]:
        return list(Deployment.objects.filter(release=self.release).order_by("created_at", "id"))

    @cached_property
    def active_deployment_in_environment(self) -> Deployment | None:
        return (
            Deployment.objects.filter(
                environment=self.environment, status__in=DEPLOYMENT_ACTIVE_STATES
            )
            .select_related("release")
            .first()
        )

    def succeeded_in(self, environment: Environment) -> bool:
        return any(
            d.environment_id == environment.pk and d.status == DeploymentStatus.SUCCEEDED
            for d in self.release_deployments
        )


@dataclass(frozen=True)
class GateReport:
    release: Release
    environment: Environment
    gates: tuple[GateResult, ...]

    @property
    def is_open(self) -> bool:
        return all(g.is_open for g in self.gates)

    @property
    def closed(self) -> list[GateResult]:
        return [g for g in self.gates if not g.is_open]

    def as_list(self) -> list[dict]:
        return [g.as_dict() for g in self.gates]

    def as_dict(self) -> dict:
        return {
            "release": self.release.version,
            "environment": self.environment.name,
            "open": self.is_open,
            "gates": self.as_list(),
        }


def gate_evaluate(*, release: Release, environment: Environment) -> GateReport:
    """Evaluate every registered gate for (release, environment)."""
    ctx = GateContext(release=release, environment=environment)
    results: list[GateResult] = []
    # Tests of one app may narrow evaluation to some apps' gates (see tests/conftest.py: gates_only).
    only = getattr(settings, "SHIPCHECK_GATE_APPS", None)
    for _order, _code, func in registered_gates():
        if only is not None and func.__module__.split(".")[0] not in only:
            continue
        answer = func(ctx)
        if answer is None:
            continue
        results.extend(answer if isinstance(answer, list | tuple) else [answer])
    final = []
    for result in results:
        if result.state == GateState.CLOSED:
            for waive in waivers_for(result.code):
                why = waive(ctx)
                if why:
                    result = replace(
                        result,
                        state=GateState.WAIVED.value,
                        reason=f"{result.reason} Waived: {why}",
                    )
                    break
        final.append(result)
    return GateReport(release=release, environment=environment, gates=tuple(final))


# --- The core gates ---------------------------------------------------------


@gate("release_open", order=10)
def _release_open(ctx: GateContext) -> GateResult:
    title = "Release is open"
    status = ctx.release.status
    if status == ReleaseStatus.CANCELLED:
        return closed("release_open", title, "The release was cancelled.")
    if status == ReleaseStatus.RELEASED:
        return closed("release_open", title, "The release is already released to production.")
    return opened(
        "release_open", title, f"The release is {ctx.release.get_status_display().lower()}."
    )


@gate("environment_active", order=15)
def _environment_active(ctx: GateContext) -> GateResult | None:
    """Closed only for an archived project or a retired environment; silent otherwise."""
    title = "Project and environment in use"
    # The project rides along with the environments the order gate loads anyway: no extra query.
    project = ctx.environments[0].project if ctx.environments else ctx.release.project
    if project.archived_at is not None:
        return closed(
            "environment_active",
            title,
            f"The project {project.name} is archived: it takes no new promotions.",
        )
    if ctx.environment.retired_at is not None:
        return closed(
            "environment_active",
            title,
            f"{ctx.environment} is retired: it is no longer in the promotion order.",
        )
    return None


@gate("order", order=20)
def _order(ctx: GateContext) -> GateResult:
    title = "Promotion order"
    previous = ctx.previous_environment
    if previous is None:
        return opened("order", title, f"{ctx.environment} is the first environment.")
    if ctx.succeeded_in(previous):
        return opened("order", title, f"Deployed successfully to {previous} first.")
    return closed("order", title, f"Not yet deployed successfully to {previous}.")


@gate("rollback_plan", order=30)
def _rollback_plan(ctx: GateContext) -> GateResult | None:
    if not ctx.environment.is_production:
        return None
    title = "Rollback plan"
    if ctx.release.rollback_plan.strip():
        return opened("rollback_plan", title, "A rollback plan is written.")
    return closed("rollback_plan", title, "No rollback plan is written; production needs one.")


@gate("environment_free", order=40)
def _environment_free(ctx: GateContext) -> GateResult:
    title = "Environment free"
    active = ctx.active_deployment_in_environment
    if active is None:
        return opened(
            "environment_free", title, f"No other deployment is running in {ctx.environment}."
        )
    who = (
        "this release"
        if active.release_id == ctx.release.pk
        else f"release {active.release.version}"
    )
    return closed(
        "environment_free",
        title,
        f"A deployment of {who} is {active.get_status_display().lower()} in {ctx.environment}.",
    )
