"""Promotion gates and waivers of the approvals app (registered in ``ApprovalsConfig.ready``).

Each gate answers from ``approvals.requirements`` so the page, the API and
``release_promote`` read the same sentence.
"""

from __future__ import annotations

from approvals.choices import ApprovalKind
from approvals.facts import ReleaseFacts
from approvals.requirements import (
    GATE_DEPLOYMENT,
    GATE_GO_NO_GO,
    GATE_QA,
    GATE_SCOPE,
    emergency_waiver,
    go_no_go_state,
    requirements_for,
)
from releases.gates import GateContext, GateResult, closed, opened
from releases.registry import gate, waiver

_FACTS_KEY = "approvals.facts"


def facts_for(ctx: GateContext) -> ReleaseFacts:
    """One ``ReleaseFacts`` per gate evaluation, sharing the context's environments and deployments."""
    facts = ctx.cache.get(_FACTS_KEY)
    if facts is None:
        facts = ReleaseFacts(
            ctx.release, environments=ctx.environments, deployments=ctx.release_deployments
        )
        ctx.cache[_FACTS_KEY] = facts
    return facts


def _requirement_gate(ctx: GateContext, kind: str, code: str, title: str) -> GateResult | None:
    facts = facts_for(ctx)
    for req in requirements_for(facts, ctx.environment):
        if req.kind == kind:
            make = opened if req.satisfied else closed
            return make(code, title, req.reason())
    return None


@gate(GATE_QA, order=50)
def qa_signoff_gate(ctx: GateContext) -> GateResult | None:
    return _requirement_gate(ctx, ApprovalKind.QA_SIGNOFF, GATE_QA, "QA sign-off")


@gate(GATE_SCOPE, order=52)
def scope_approval_gate(ctx: GateContext) -> GateResult | None:
    return _requirement_gate(ctx, ApprovalKind.SCOPE, GATE_SCOPE, "Scope approval")


@gate(GATE_DEPLOYMENT, order=54)
def deployment_approvals_gate(ctx: GateContext) -> GateResult | None:
    return _requirement_gate(ctx, ApprovalKind.DEPLOYMENT, GATE_DEPLOYMENT, "Deployment approvals")


@gate(GATE_GO_NO_GO, order=56)
def go_no_go_gate(ctx: GateContext) -> GateResult | None:
    state = go_no_go_state(facts_for(ctx), ctx.environment)
    if not state.required:
        return None
    make = opened if state.satisfied else closed
    return make(GATE_GO_NO_GO, "Go/no-go decision", state.reason)


@waiver("order")
def emergency_skips_staging(ctx: GateContext) -> str | None:
    """A hotfix with an emergency approval may enter production without staging."""
    return emergency_waiver(facts_for(ctx), ctx.environment)


@waiver(GATE_QA)
def emergency_skips_staging_signoff(ctx: GateContext) -> str | None:
    """QA cannot sign off an environment the emergency path skipped."""
    facts = facts_for(ctx)
    previous = facts.previous(ctx.environment)
    if previous is None or facts.succeeded_in(previous):
        return None
    return emergency_waiver(facts, ctx.environment)
