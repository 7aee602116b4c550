"""The deploy-window gate and its override waiver (registered in ``DeployCalendarConfig.ready``)."""

from __future__ import annotations

from django.utils import timezone

from deploycalendar.selectors import TimeAnswer, time_answer, time_reason
from releases.gates import GateContext, GateResult, closed, opened
from releases.registry import gate, waiver

GATE_TIME = "deploy_window"
TITLE = "Deploy window and freezes"
_KEY = "deploycalendar.answer"


def answer_for(ctx: GateContext) -> TimeAnswer:
    answer = ctx.cache.get(_KEY)
    if answer is None:
        answer = time_answer(
            release=ctx.release, environment=ctx.environment, instant=timezone.now()
        )
        ctx.cache[_KEY] = answer
    return answer


@gate(GATE_TIME, order=60)
def deploy_window_gate(ctx: GateContext) -> GateResult | None:
    """Silent where no window or freeze is configured; otherwise open, or closed until a time."""
    answer = answer_for(ctx)
    if not answer.applies:
        return None
    if answer.verdict.allowed:
        if answer.windows:
            return opened(GATE_TIME, TITLE, f"Inside the {ctx.environment.name} deploy window.")
        return opened(GATE_TIME, TITLE, f"No freeze holds for {ctx.environment.name} now.")
    result = closed(
        GATE_TIME,
        TITLE,
        time_reason(answer=answer, environment=ctx.environment, release=ctx.release),
    )
    freeze = answer.verdict.freeze
    return GateResult(
        result.code,
        result.title,
        result.state,
        result.reason,
        next_opening=answer.verdict.next_opening,
        freeze=getattr(freeze, "name", ""),
    )


@waiver(GATE_TIME)
def override_waiver(ctx: GateContext) -> str | None:
    """An override for this release and environment lets it through (loudly marked)."""
    return answer_for(ctx).override or None
