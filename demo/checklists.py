"""Demo checklists: each demo release's checklist ticked as far as its story says.

Runs after ``demo.releases`` (which created the releases, and with them their
checklist copies). Ticks go through ``item_tick`` by the person holding each
item's role, so the audit trail is the real one. Safe to run again: ticked
items stay ticked and nothing is added twice.

What a visitor sees:

* released versions (2.1.0, 2.1.1, 2.2.1, Mobile 1.8.0): complete checklists;
* 2.2.0 (rolled back): verification left open where the rollback decision was taken;
* 2.3.0 (next: production): "Get ready for production" misses two items, so
  the checklist gate keeps production closed;
* 2.3.1: staging validation half done after the failed staging deployment;
* 2.4.0 (next: staging): two items of the branch preparation are open, one of
  them needs evidence; tick them as eli and rita to open staging;
* 3.0.0-beta.1 early, 2.5.0 untouched;
* the hotfix 2.2.2 (``demo.approvals``) and Payments API 1.4.0 (``demo.monitoring``) are
  ticked by their own chapters as they move, step by step, so every released version is done.
"""

from __future__ import annotations

from checklists.choices import ItemStatus
from checklists.models import Checklist, Item
from checklists.services import (
    checklist_copy,
    item_add,
    item_mark_not_applicable,
    item_tick,
    shipped_templates_install,
    step_record_output,
)
from core.exceptions import PermissionDenied
from demo.releases import DemoContext
from releases.models import Release

# version → {step number: items left open at the end of that step}; steps after the last
# listed one stay untouched, steps before it are complete. "all" ticks everything.
STOREFRONT_PROGRESS: dict[str, dict | str] = {
    "2.1.0": "all",
    "2.1.1": "all",
    "2.2.1": "all",
    "2.2.0": {6: 3},
    "2.3.0": {4: 3},
    "2.3.1": {3: 4},
    "2.4.0": {1: 2},
    "3.0.0-beta.1": {1: 4},
}
MOBILE_PROGRESS: dict[str, dict | str] = {"1.8.0": "all"}

# Who does each role's ticks in the demo project (the second project has one person for all).
ROLE_HOLDERS = {
    "release_manager": "rita",
    "engineer": "eli",
    "qa": "quinn",
    "product_owner": "paula",
    "emergency_approver": "cora",
    "approver": "adrian",
    "admin": "adele",
}


def _evidence(item: Item, release: Release) -> str:
    if item.role == "qa":
        return f"https://ci.example.com/{release.project.slug}/reports/{release.version}/{item.pk}"
    if item.role == "engineer":
        return f"https://ci.example.com/{release.project.slug}/builds/{1000 + item.pk}"
    return f"REL-{release.version}"


def tick_through(release: Release, progress, people: dict, *, storefront: bool) -> int:
    """Tick ``release``'s checklist as far as ``progress`` says (see STOREFRONT_PROGRESS)."""
    checklist = Checklist.objects.filter(release=release).first()
    if checklist is None:
        checklist = checklist_copy(release=release, actor=release.release_manager)
    if checklist is None:
        return 0
    steps = list(checklist.steps.order_by("position", "id"))
    if progress == "all":
        plan = {number: 0 for number in range(1, len(steps) + 1)}
    else:
        last, left_open = max(progress.items())
        plan = {number: 0 for number in range(1, last)}
        plan[last] = left_open
    ticked = 0
    for number, left_open in plan.items():
        if number > len(steps):
            continue
        items = list(
            Item.objects.filter(step=steps[number - 1])
            .select_related("step", "checklist__release__project")
            .order_by("position", "id")
        )
        for item in items[: len(items) - left_open]:
            if item.status != ItemStatus.OPEN:
                continue
            holder = people.get(ROLE_HOLDERS.get(item.role, "")) if storefront else None
            evidence = _evidence(item, release) if item.evidence_required else ""
            try:
                item_tick(item=item, actor=holder or release.release_manager, evidence=evidence)
            except PermissionDenied:
                # Nobody in the demo holds that role here: the release manager may tick any item.
                item_tick(item=item, actor=release.release_manager, evidence=evidence)
            ticked += 1
    return ticked


def _extras(releases: dict, people: dict) -> None:
    """A not-applicable item, an ad-hoc item and a recorded actual output, for the features to show."""
    rita = people["rita"]
    gift_cards = releases.get("2.3.0")
    if gift_cards is not None:
        item = (
            Item.objects.select_related("step", "checklist__release")
            .filter(checklist__release=gift_cards, text__startswith="Feature flags set up")
            .first()
        )
        if item is not None and item.status == ItemStatus.OPEN:
            item_mark_not_applicable(
                item=item, actor=rita, reason="Gift cards ship without a feature flag."
            )
    checkout = releases.get("2.4.0")
    if checkout is not None:
        checklist = Checklist.objects.filter(release=checkout).first()
        text = "Payment provider switched from sandbox to live keys"
        if (
            checklist is not None
            and not Item.objects.filter(checklist=checklist, text=text).exists()
        ):
            step = (
                checklist.steps.select_related("checklist__release")
                .filter(title__startswith="Get ready")
                .first()
            )
            if step is not None:
                item_add(step=step, actor=rita, text=text, role="engineer", evidence_required=True)
    saved_carts = releases.get("2.1.0")
    if saved_carts is not None:
        checklist = Checklist.objects.filter(release=saved_carts).first()
        step = (
            checklist.steps.select_related("checklist__release").order_by("position").first()
            if checklist is not None
            else None
        )
        if step is not None and not step.actual_output:
            step_record_output(
                step=step,
                actor=rita,
                text="Branch release/2.1.0 cut, rc.2 tagged after one fix, CI build 1184 green.",
            )


def seed(ctx: DemoContext) -> None:
    """Install the shipped templates and tick the demo releases' checklists to their stage."""
    installed = shipped_templates_install()
    people = ctx.people
    ticked = 0
    for version, progress in STOREFRONT_PROGRESS.items():
        release = (
            ctx.releases.get(version)
            or Release.objects.filter(project=ctx.project, version=version).first()
        )
        if release is not None:
            ticked += tick_through(release, progress, people, storefront=True)
    for version, progress in MOBILE_PROGRESS.items():
        release = Release.objects.filter(project=ctx.other_project, version=version).first()
        if release is not None:
            ticked += tick_through(release, progress, people, storefront=False)
    _extras(ctx.releases, people)
    if ctx.stdout is not None:
        ctx.stdout.write(
            f"Checklists: {installed} shipped template versions installed, {ticked} items ticked."
        )
