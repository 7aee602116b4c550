"""Demo feature flags: Storefront's production flags and three rollout plans, one per outcome.

* ``new-checkout`` on 2.3.0: in progress at 25 % (step 1 passed, rita advanced it);
* ``saved-carts`` on 2.2.1: completed, 10 → 25 → 50 → 100 %;
* ``one-click-pay`` on 2.3.1: paused at its first step by a failing checkout
  error-rate check, and set back to 0 % at once.

Everything goes through the flags services, so the release pages and the audit
trail show the steps as they happened. Creates nothing on a second run.
"""

from __future__ import annotations

from django.utils import timezone

from demo.releases import DemoContext
from flags.models import Flag, RolloutPlan
from flags.services import flag_create, plan_advance, plan_create, plan_start, step_conclude
from monitoring.choices import CheckVerdictStatus
from monitoring.verdicts import CheckState, window_verdict
from projects.models import Environment

FLAGS: tuple[tuple[str, str, list[str]], ...] = (
    ("new-checkout", "The one-page checkout.", ["rita", "eli"]),
    ("saved-carts", "Carts kept across devices.", []),
    ("one-click-pay", "Pay with the saved card in one click.", ["paula"]),
)


def _say(ctx: DemoContext, text: str) -> None:
    if ctx.stdout is not None:
        ctx.stdout.write(text)


def seed(ctx: DemoContext) -> None:
    production = Environment.objects.filter(project=ctx.project, name="production").first()
    if production is None or RolloutPlan.objects.filter(environment=production).exists():
        return
    rita = ctx.people["rita"]
    for key, description, testers in FLAGS:
        if not Flag.objects.filter(environment=production, key=key).exists():
            flag_create(
                environment=production,
                actor=rita,
                key=key,
                description=description,
                beta_testers=testers,
            )

    def plan(version: str, key: str):
        release = ctx.releases.get(version)
        if release is None:
            return None
        return plan_start(
            plan=plan_create(release=release, environment=production, actor=rita, flag_key=key),
            actor=rita,
        )

    in_progress = plan("2.3.0", "new-checkout")
    if in_progress is not None:
        plan_advance(plan=in_progress, actor=rita, reason="A quiet week at 10 %; error rate flat.")
    completed = plan("2.2.1", "saved-carts")
    if completed is not None:
        for note in ("Clean at 10 %.", "Clean at 25 %.", "Clean at 50 %.", "Everyone has it."):
            completed = plan_advance(plan=completed, actor=rita, reason=note)
    paused = plan("2.3.1", "one-click-pay")
    if paused is not None:
        step = paused.steps.get(position=0)
        verdict = window_verdict(
            [
                CheckState(
                    "Checkout error rate",
                    True,
                    CheckVerdictStatus.FAILED,
                    "Checkout error rate failed 3 of 6 measurements, more than the limit of 1; "
                    "last: 4.8 % is above 2 %.",
                )
            ],
            finished=False,
        )
        step_conclude(step_id=step.pk, now=timezone.now(), verdict=verdict)
    _say(ctx, "Feature flags: 3 rollout plans (25 %, completed, paused by a failing check).")
