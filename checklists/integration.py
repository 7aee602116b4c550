"""How checklists plug into releases: the copy at creation, the promotion gate, the release page panel.

Registered from ``ChecklistsConfig.ready``; ``releases`` never imports this app.
"""

from __future__ import annotations

from checklists.choices import ITEM_ROLES, PHASE_TIER, StepPhase
from checklists.selectors import checklist_board, checklist_gate_steps, missing_items
from checklists.services import checklist_copy
from releases.gates import GateContext, GateResult, closed, opened

GATE_CODE = "checklist"
GATE_TITLE = "Checklist"
# Enough names to act on; the release page lists the rest.
MISSING_NAMES_SHOWN = 8


def copy_template_on_release_created(*, release, actor) -> None:
    """A new release starts with a copy of its project's default template for its type."""
    checklist_copy(release=release, actor=actor)


def checklist_gate(ctx: GateContext) -> GateResult | None:
    """Closed while a step that gates this environment has a required item left open."""
    tier = ctx.environment.tier
    if tier not in PHASE_TIER.values():
        return None
    key = ("checklist_steps", tier)
    if key not in ctx.cache:
        ctx.cache[key] = checklist_gate_steps(release=ctx.release, tier=tier)
    steps = ctx.cache[key]
    if not steps:
        return None
    incomplete = [(step, missing) for step in steps if (missing := missing_items(step))]
    phase_label = next(StepPhase(p).label for p, t in PHASE_TIER.items() if t == tier).lower()
    if not incomplete:
        names = ", ".join(f"'{s.title}'" for s in steps)
        return opened(
            GATE_CODE, GATE_TITLE, f"Every checklist step due {phase_label} is complete ({names})."
        )
    parts = []
    for step, missing in incomplete:
        shown = [i.text for i in missing[:MISSING_NAMES_SHOWN]]
        more = len(missing) - len(shown)
        listed = "; ".join(shown) + (f"; and {more} more" if more > 0 else "")
        parts.append(f"'{step.title}' is missing: {listed}.")
    return closed(
        GATE_CODE, GATE_TITLE, f"Checklist not complete for {ctx.environment}. " + " ".join(parts)
    )


def panel_context(release, request) -> dict:
    """What the release page needs to draw the checklist (a fixed number of queries)."""
    from checklists.selectors import published_versions_for

    board = checklist_board(release=release, user=request.user)
    mine = request.GET.get("mine") == "1"
    context = {"board": board, "release": release, "mine": mine, "role_choices": ITEM_ROLES}
    if board is None or board.can_manage:
        context["template_choices"] = published_versions_for(
            user=request.user, project=release.project
        )
    return context
