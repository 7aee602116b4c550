"""The demo's projects and releases: Storefront in every state, and Mobile App.

``foundation()`` creates the people (``demo.people``) and the two projects and
returns the ``DemoContext`` that every chapter of the story receives;
``seed`` is the story's first chapter and fills ``ctx.releases``
(``demo/story.py`` tells the chapters in order).

Everything is written through the services, so the audit trail is the real
one and ``manage.py audit_verify`` passes. Running it twice creates nothing:
a release that already exists is left as it is.

Demo versions of Storefront (``ctx.releases[version]``), oldest first:

    2.1.0          minor     released: dev, staging, production succeeded
    2.1.1          patch     released
    2.2.0          minor     rolled back: production deployment rolled back
    2.2.1          hotfix    released (fixes what made 2.2.0 roll back)
    2.3.0          minor     in progress, succeeded in dev and staging; next: production
    2.3.1          security  in progress, succeeded in dev, its staging deployment failed
    2.3.2          patch     cancelled (superseded by 2.4.0)
    2.4.0          minor     in progress, succeeded in dev; next: staging (try it in the browser)
    3.0.0-beta.1   beta      in progress, its dev deployment is still running
    2.5.0          minor     planned, no deployments and no rollback plan yet

The story is told in two passes so that the trail reads in the order things
happen. ``seed`` plays each new release up to its first production step and
lists the releases still bound for production in ``ctx.production_bound``;
the next chapters then add what must come first (checklists ticked, test
runs, QA sign-off, scope and the two production approvals, the go/no-go
decision); ``seed_late`` (after every chapter's ``seed``) plays the production
steps, and ``demo.monitoring.seed_late`` what comes after (monitoring
windows). Promotions are checked against the core gates only (order, release
open, rollback plan, environment free), as the other apps' records are added
by their own chapters.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Protocol

from django.contrib.auth.models import User
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from demo.people import DEMO_PEOPLE, person_get_or_create
from projects.choices import Role
from projects.models import Environment, Project
from projects.services import membership_grant, project_create
from releases import services
from releases.choices import DeploymentStrategy, ReleaseStatus, ReleaseType
from releases.models import Release

DEMO_PROJECT = ("Storefront", "storefront", "The web shop: catalogue, cart, checkout and payments.")
OTHER_PROJECT = ("Mobile App", "mobile-app", "The iOS and Android shopping app.")

ROLLBACK_PLAN = """\
1. Redeploy the previous artifact with the pipeline's *redeploy* job.
2. Turn off the release's feature flags in the flag console.
3. Database: the migrations of this release are additive; nothing to revert.
4. Tell #storefront-releases and support that the release was rolled back.
"""


@dataclass
class Step:
    """One thing that happens to a demo release, in order."""

    kind: str  # "deploy" (promote and finish), "start" (promote only), "rollback", "cancel"
    environment: str = ""
    succeeded: bool = True
    actor: str = "eli"
    reason: str = ""
    strategy: str = DeploymentStrategy.ALL_AT_ONCE


@dataclass
class DemoRelease:
    version: str
    type: str
    title: str
    description: str
    notes: str = ""
    rollback_plan: str = ROLLBACK_PLAN
    target_in_days: int | None = None
    created_by: str = "rita"
    tickets: list[dict] = field(default_factory=list)
    commits: list[dict] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)


def _ticket(key: str, title: str) -> dict:
    return {
        "key": key,
        "title": title,
        "url": f"https://tracker.example.com/browse/{key}",
        "status": "Done",
    }


def _commit(sha: str, message: str, author: str = "Eli Okafor") -> dict:
    return {"sha": sha, "message": message, "author": author}


def _full_path(*, production_ok: bool = True) -> list[Step]:
    return [
        Step("deploy", "dev"),
        Step("deploy", "staging"),
        Step("deploy", "production", succeeded=production_ok, strategy=DeploymentStrategy.CANARY),
    ]


STOREFRONT_RELEASES = (
    DemoRelease(
        "2.1.0",
        ReleaseType.MINOR,
        "Saved carts",
        "Signed-in shoppers find their cart again on any device.",
        notes="## New\n- Carts are saved for signed-in shoppers for 30 days.\n- A *Saved for later* list.",
        target_in_days=-40,
        tickets=[
            _ticket("SF-101", "Persist carts server-side"),
            _ticket("SF-102", "Saved for later list"),
        ],
        commits=[
            _commit("4f2a9c1d7e", "Store carts per customer"),
            _commit("9b13e0a6c2", "Saved-for-later UI"),
        ],
        steps=_full_path(),
    ),
    DemoRelease(
        "2.1.1",
        ReleaseType.PATCH,
        "Coupon rounding fix",
        "Percentage coupons rounded half a cent the wrong way.",
        notes="## Fixed\n- Percentage coupons now round half-even, as the invoice does.",
        target_in_days=-33,
        tickets=[_ticket("SF-118", "Coupon totals off by one cent")],
        commits=[_commit("c0ffee1234", "Round coupon discounts half-even")],
        steps=_full_path(),
    ),
    DemoRelease(
        "2.2.0",
        ReleaseType.MINOR,
        "New product search",
        "Search moves to the new index with typo tolerance and facets.",
        notes="## New\n- Typo-tolerant search.\n- Facets for size, colour and price.",
        target_in_days=-21,
        tickets=[_ticket("SF-130", "Search index migration"), _ticket("SF-131", "Facet sidebar")],
        commits=[
            _commit("a1b2c3d4e5", "Query the new search index"),
            _commit("e5d4c3b2a1", "Facet sidebar"),
        ],
        steps=[
            *_full_path(),
            Step(
                "rollback",
                "production",
                actor="rita",
                reason="Search latency p95 rose from 180 ms to 1.4 s during the post-deploy window.",
            ),
        ],
    ),
    DemoRelease(
        "2.2.1",
        ReleaseType.HOTFIX,
        "Search latency hotfix",
        "Brings back the new search with the missing index on the facet table.",
        notes="## Fixed\n- Adds the facet index whose absence slowed search in 2.2.0.",
        target_in_days=-19,
        created_by="eli",
        tickets=[_ticket("SF-140", "Slow facet queries in production")],
        commits=[_commit("f00dbabe42", "Index facet values")],
        steps=_full_path(),
    ),
    DemoRelease(
        "2.3.0",
        ReleaseType.MINOR,
        "Gift cards",
        "Shoppers buy and redeem gift cards at checkout.",
        notes="## New\n- Buy digital gift cards.\n- Redeem a gift card at checkout, alone or with a card.",
        target_in_days=2,
        tickets=[
            _ticket("SF-150", "Gift card purchase"),
            _ticket("SF-151", "Redeem at checkout"),
            _ticket("SF-152", "Gift card balance page"),
        ],
        commits=[
            _commit("0a1b2c3d4e", "Gift card model and purchase"),
            _commit("1b2c3d4e5f", "Redeem flow"),
        ],
        steps=[Step("deploy", "dev"), Step("deploy", "staging")],
    ),
    DemoRelease(
        "2.3.1",
        ReleaseType.SECURITY,
        "Session fixation fix",
        "Rotates the session key at sign-in and at checkout.",
        notes="## Security\n- The session key changes at sign-in (reported by an external researcher).",
        target_in_days=1,
        created_by="eli",
        tickets=[_ticket("SF-160", "Rotate session key on sign-in")],
        commits=[_commit("5ec0de5ec0", "Cycle the session key at sign-in")],
        steps=[
            Step("deploy", "dev"),
            Step(
                "deploy",
                "staging",
                succeeded=False,
                reason="Smoke test failed: sign-in loops on the staging load balancer.",
            ),
        ],
    ),
    DemoRelease(
        "2.3.2",
        ReleaseType.PATCH,
        "Legacy payment widget tweaks",
        "Small fixes to the old payment widget.",
        target_in_days=-5,
        tickets=[_ticket("SF-170", "Widget alignment on Safari")],
        steps=[
            Step("cancel", actor="rita", reason="Superseded by 2.4.0, which replaces the widget.")
        ],
    ),
    DemoRelease(
        "2.4.0",
        ReleaseType.MINOR,
        "Checkout redesign",
        "A one-page checkout with the new payment widget.",
        notes="## New\n- One-page checkout.\n- New payment widget with wallets.\n\n"
        "## Changed\n- The old widget is gone.",
        target_in_days=9,
        tickets=[
            _ticket("SF-180", "One-page checkout"),
            _ticket("SF-181", "Wallet payments"),
            _ticket("SF-182", "Remove the legacy widget"),
        ],
        commits=[
            _commit("2c3d4e5f6a", "One-page checkout layout"),
            _commit("3d4e5f6a7b", "Wallet buttons"),
        ],
        steps=[Step("deploy", "dev")],
    ),
    DemoRelease(
        "3.0.0-beta.1",
        ReleaseType.BETA,
        "Headless storefront beta",
        "The storefront served from the new API for beta testers.",
        notes="Beta for the **headless** storefront; only beta testers see it.",
        target_in_days=30,
        created_by="eli",
        tickets=[_ticket("SF-200", "Storefront API"), _ticket("SF-201", "Beta tester cohort")],
        steps=[Step("start", "dev")],
    ),
    DemoRelease(
        "2.5.0",
        ReleaseType.MINOR,
        "Loyalty points",
        "Shoppers collect points on every order and spend them at checkout.",
        target_in_days=23,
        rollback_plan="",
        tickets=[_ticket("SF-210", "Points ledger"), _ticket("SF-211", "Spend points at checkout")],
    ),
)

MOBILE_RELEASES = (
    DemoRelease(
        "1.8.0",
        ReleaseType.MINOR,
        "Push notifications for orders",
        "Order status changes arrive as push notifications.",
        target_in_days=-12,
        created_by="otto",
        steps=_full_path(),
    ),
    DemoRelease(
        "1.9.0",
        ReleaseType.MINOR,
        "Dark mode",
        "The app follows the system's dark mode.",
        target_in_days=14,
        created_by="otto",
    ),
)


class Output(Protocol):
    """Where the story's progress lines go: a command's stdout, or a ``StringIO`` in tests."""

    def write(self, text: str, /) -> object: ...


@dataclass
class DemoContext:
    """What the chapters of the story share: the projects, the people by username, the
    Storefront releases by version, and where progress lines go (``None``: nowhere)."""

    project: Project
    other_project: Project
    people: dict[str, User]
    releases: dict[str, Release] = field(default_factory=dict)
    # version -> (release, its steps from production on); see ``seed``.
    production_bound: dict[str, tuple[Release, list[Step]]] = field(default_factory=dict)
    stdout: Output | None = None


def _project(name: str, slug: str, description: str, admin: User) -> tuple[Project, bool]:
    project = Project.objects.filter(slug=slug).first()
    if project is not None:
        return project, False
    return project_create(
        name=name, slug=slug, description=description, actor=None, admins=[admin]
    ), True


def foundation(stdout: Output | None = None) -> DemoContext:
    """Create (or find) the demo people and the two projects; return the context of the story."""
    people: dict[str, User] = {}
    created_people = 0
    for username, first, last, _roles, _about in DEMO_PEOPLE:
        people[username], created = person_get_or_create(username, first, last)
        created_people += created
    with transaction.atomic():
        storefront, new_storefront = _project(*DEMO_PROJECT, admin=people["adele"])
        for username, *_names, roles, _about in DEMO_PEOPLE:
            for role in roles:
                membership_grant(project=storefront, user=people[username], role=role)
        mobile, new_mobile = _project(*OTHER_PROJECT, admin=people["otto"])
        for role in (Role.RELEASE_MANAGER, Role.ENGINEER):
            membership_grant(project=mobile, user=people["otto"], role=role)
        # Quinn tests both products: one person, two projects.
        membership_grant(project=mobile, user=people["quinn"], role=Role.QA)
    if stdout is not None:
        stdout.write(
            f"People: {created_people} created, {len(people) - created_people} already there. "
            f"Projects: {'created' if new_storefront or new_mobile else 'already there'} "
            f"({storefront.name}, {mobile.name})."
        )
    return DemoContext(project=storefront, other_project=mobile, people=people, stdout=stdout)


def _cast(project: Project, people: dict):
    """(the release manager, who(username)) of a project: in the second project one person does everything."""
    if project.slug == DEMO_PROJECT[1]:
        return people["rita"], people.__getitem__
    return people["otto"], lambda _username: people["otto"]


def _before_production(steps: list[Step]) -> tuple[list[Step], list[Step]]:
    """The steps before the first production one, and that step with those after it."""
    first = next(
        (i for i, step in enumerate(steps) if step.environment == "production"), len(steps)
    )
    return steps[:first], steps[first:]


def _play(spec: DemoRelease, *, project: Project, people: dict) -> Release:
    """Create one release and play its story up to production, all through the services."""
    manager, who = _cast(project, people)

    target = None
    if spec.target_in_days is not None:
        target = timezone.localdate() + datetime.timedelta(days=spec.target_in_days)
    release = services.release_create(
        project=project,
        version=spec.version,
        title=spec.title,
        actor=who(spec.created_by),
        type=spec.type,
        description=spec.description,
        notes=spec.notes,
        rollback_plan=spec.rollback_plan,
        release_manager=manager,
        target_date=target,
        artifact_version=f"{project.slug}:{spec.version}",
    )
    if spec.tickets:
        services.release_tickets_add(release=release, tickets=spec.tickets, actor=manager)
    if spec.commits:
        services.release_commits_add(release=release, commits=spec.commits, actor=manager)
    _play_steps(release, _before_production(spec.steps)[0], people=people)
    return release


def _play_steps(release: Release, steps: list[Step], *, people: dict) -> Release:
    manager, who = _cast(release.project, people)
    environments = {e.name: e for e in Environment.objects.filter(project=release.project)}
    latest = {
        d.environment.name: d
        for d in release.deployments.select_related("environment").order_by("created_at")
    }
    for step in steps:
        actor = who(step.actor)
        if step.kind in ("deploy", "start"):
            deployment = services.release_promote(
                release=release,
                environment=environments[step.environment],
                actor=actor,
                strategy=step.strategy,
            )
            latest[step.environment] = deployment
            if step.kind == "deploy":
                services.deployment_finish(
                    deployment=deployment, succeeded=step.succeeded, actor=actor, reason=step.reason
                )
        elif step.kind == "rollback":
            services.deployment_rollback(
                deployment=latest[step.environment], actor=actor, reason=step.reason
            )
        elif step.kind == "cancel":
            services.release_cancel(release=release, actor=actor, reason=step.reason)
        release.refresh_from_db()
        # A hold (post-deploy monitoring) may keep a production success open; this
        # history says the release was verified, so record that as its manager would.
        if (
            step.kind == "deploy"
            and step.environment == "production"
            and step.succeeded
            and release.status == ReleaseStatus.IN_PROGRESS
        ):
            services.release_mark_released(
                release=release, actor=manager, reason="Verified after the post-deploy window."
            )
            release.refresh_from_db()
    return release


def _seed_project(
    specs, *, project: Project, people: dict, stdout, bound: dict
) -> dict[str, Release]:
    releases, created = {}, []
    # Promotions are checked against the core gates only; see the module docstring.
    with override_settings(SHIPCHECK_GATE_APPS={"releases"}):
        for spec in specs:
            release = Release.objects.filter(project=project, version=spec.version).first()
            if release is None:
                with transaction.atomic():
                    release = _play(spec, project=project, people=people)
                created.append(spec.version)
                later = _before_production(spec.steps)[1]
                if later:
                    bound[
                        spec.version
                        if project.slug == DEMO_PROJECT[1]
                        else f"{project.slug}:{spec.version}"
                    ] = (release, later)
            releases[spec.version] = release
    if stdout is not None:
        stdout.write(
            f"{project.name}: {len(created)} releases created"
            + (f" ({', '.join(created)})" if created else "")
            + f", {len(specs) - len(created)} already there."
        )
    return releases


def seed(ctx: DemoContext) -> None:
    """Releases, tickets, commits and deployments up to production; fills ``ctx.releases`` and
    ``ctx.production_bound`` (version → (release, its production steps); the second project's
    versions are prefixed with its slug)."""
    bound = ctx.production_bound
    ctx.releases.update(
        _seed_project(
            STOREFRONT_RELEASES,
            project=ctx.project,
            people=ctx.people,
            stdout=ctx.stdout,
            bound=bound,
        )
    )
    _seed_project(
        MOBILE_RELEASES,
        project=ctx.other_project,
        people=ctx.people,
        stdout=ctx.stdout,
        bound=bound,
    )


def seed_late(ctx: DemoContext) -> None:
    """The production steps of the releases ``seed`` left before production."""
    with override_settings(SHIPCHECK_GATE_APPS={"releases"}):
        for release, steps in ctx.production_bound.values():
            with transaction.atomic():
                _play_steps(release, steps, people=ctx.people)
    if ctx.stdout is not None and ctx.production_bound:
        ctx.stdout.write(f"Production: {len(ctx.production_bound)} releases deployed.")
