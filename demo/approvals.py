"""Demo approvals for the Storefront project (``manage.py seed_demo``; runs after ``demo.releases``).

What it adds, all through the services so the audit trail is the real one:

* the production policy, saved by the admin (two approvals, QA sign-off of
  staging, scope approval, go/no-go);
* 2.3.0 (in staging): QA signed off staging, the product owner approved the
  scope, one production approval of two (Adrian's), a go/no-go meeting
  scheduled for tomorrow with notes and a first vote;
* 2.4.0 (in dev): scope approved, and Ana's production rejection with her reason;
* every Storefront release that goes on to production in the demo (2.1.0,
  2.1.1, 2.2.0, 2.2.1): QA's sign-off of staging, the scope approval, two
  production approvals and a go/no-go decided "go", all before its production
  deployment (``demo.releases.seed_late`` deploys after this chapter), so the
  release history report and the release records show a clean process;
* 2.2.2, a hotfix that took the emergency path (Cora's emergency approval,
  straight to production) and whose post-implementation review is
  overdue.

Running it twice creates nothing new: each part checks what is already there.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from approvals.choices import ApprovalKind, Decision
from approvals.models import Approval, ApprovalPolicy
from approvals.services import (
    approval_decide,
    approval_policy_update,
    emergency_approve,
    emergency_reviews_overdue_notify,
    meeting_decide,
    meeting_notes_update,
    meeting_schedule,
    meeting_vote,
)
from demo.checklists import tick_through
from demo.releases import DemoContext
from demo.timeline import story_shift
from projects.models import Environment
from releases import services as releases
from releases.choices import ReleaseStatus, ReleaseType
from releases.models import Release

HOTFIX_VERSION = "2.2.2"


def seed(ctx: DemoContext) -> None:
    project = ctx.project
    people = ctx.people
    envs = {e.name: e for e in Environment.objects.filter(project=project)}
    done = []
    with transaction.atomic():
        if not ApprovalPolicy.objects.filter(environment=envs["production"]).exists():
            approval_policy_update(
                environment=envs["production"],
                actor=people["adele"],
                required_approvals=2,
                requires_qa_signoff=True,
                requires_scope_approval=True,
                requires_go_no_go=True,
            )
            done.append("production policy")
    cleared = []
    for version, (release, _steps) in ctx.production_bound.items():
        if (
            release.project_id == project.pk
            and not Approval.objects.filter(release=release).exists()
        ):
            with transaction.atomic():
                cleared_for_production(release, envs, people)
            cleared.append(version)
    if cleared:
        done.append(f"{', '.join(cleared)} cleared for production")
    waiting = ctx.releases.get("2.3.0")
    if waiting is not None and not Approval.objects.filter(release=waiting).exists():
        with transaction.atomic():
            _waiting_for_second_approval(waiting, envs, people)
        done.append("2.3.0 waits for its second production approval")
    rejected = ctx.releases.get("2.4.0")
    if rejected is not None and not Approval.objects.filter(release=rejected).exists():
        with transaction.atomic():
            _rejected(rejected, envs, people)
        done.append("2.4.0 has a rejection")
    if not Release.objects.filter(project=project, version=HOTFIX_VERSION).exists():
        with transaction.atomic():
            hotfix = _emergency_hotfix(project, envs, people)
        ctx.releases[HOTFIX_VERSION] = hotfix
        done.append(f"{HOTFIX_VERSION} took the emergency path; its review is overdue")
    if ctx.stdout is not None:
        ctx.stdout.write("Approvals: " + ("; ".join(done) if done else "already there") + ".")


def _approve(release, kind: str, person, comment: str, environment=None) -> None:
    approval_decide(
        release=release,
        kind=kind,
        decision=Decision.APPROVE,
        environment=environment,
        actor=person,
        comment=comment,
    )


def _signed_off(release, envs, people, *, qa: str, scope: str, approvals: dict[str, str]) -> None:
    """QA's sign-off of staging, the product owner's scope approval and production approvals
    (approver username → comment), in the order a team gives them."""
    _approve(release, ApprovalKind.QA_SIGNOFF, people["quinn"], qa, envs["staging"])
    _approve(release, ApprovalKind.SCOPE, people["paula"], scope)
    for approver, comment in approvals.items():
        _approve(release, ApprovalKind.DEPLOYMENT, people[approver], comment, envs["production"])


def cleared_for_production(release, envs, people) -> None:
    """Everything the production policy asks for, then a go/no-go decided "go".

    Also used by ``demo.monitoring`` for the Payments API releases (the same people hold the
    same roles there)."""
    _signed_off(
        release,
        envs,
        people,
        qa="Regression suite green on staging; exploratory pass on the changed pages.",
        scope="The tickets in scope are the ones we planned.",
        approvals={
            "adrian": "Diff and migrations reviewed; the rollback plan is tested.",
            "ana": "Staging results and monitoring thresholds look right.",
        },
    )
    meeting = meeting_schedule(
        release=release,
        environment=envs["production"],
        scheduled_for=timezone.now(),
        actor=people["rita"],
    )
    for voter in ("adrian", "quinn", "paula"):
        if meeting.attendees.filter(person=people[voter]).exists():
            meeting_vote(meeting=meeting, vote="go", actor=people[voter], comment="Go.")
    meeting_decide(
        meeting=meeting,
        decision="go",
        actor=people["rita"],
        reason="Criteria met, no trigger raised, everyone present voted go.",
    )


def _waiting_for_second_approval(release, envs, people) -> None:
    _signed_off(
        release,
        envs,
        people,
        qa="Regression suite and gift card scenarios pass on staging.",
        scope="Purchase, redeem and balance page: the scope we promised.",
        approvals={"adrian": "Migrations are additive; rollback plan checked."},
    )
    tomorrow = (timezone.localtime() + timedelta(days=1)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    meeting = meeting_schedule(
        release=release,
        environment=envs["production"],
        scheduled_for=tomorrow,
        actor=people["rita"],
    )
    tests = meeting.agenda.get(key="tests")
    meeting_notes_update(
        item=tests,
        notes="Staging: 1,284 tests passed, none failing. Load test at 2x peak: p95 210 ms.",
        actor=people["rita"],
    )
    meeting_vote(
        meeting=meeting,
        vote="go",
        actor=people["adrian"],
        comment="Ready from the engineering side.",
    )


def _rejected(release, envs, people) -> None:
    _approve(
        release, ApprovalKind.SCOPE, people["paula"], "One-page checkout and wallets, as planned."
    )
    approval_decide(
        release=release,
        kind=ApprovalKind.DEPLOYMENT,
        decision=Decision.REJECT,
        environment=envs["production"],
        actor=people["ana"],
        comment="The new payment widget has no load test yet; run one on staging before production.",
    )


def _emergency_hotfix(project, envs, people) -> Release:
    rita, eli = people["rita"], people["eli"]
    hotfix = releases.release_create(
        project=project,
        version=HOTFIX_VERSION,
        title="Double charge at checkout",
        actor=eli,
        type=ReleaseType.HOTFIX,
        release_manager=rita,
        artifact_version=f"{project.slug}:{HOTFIX_VERSION}",
        description="Some card payments were captured twice after a gateway timeout.",
        rollback_plan="Redeploy 2.2.1; refunds for double captures are handled by support either way.",
    )
    releases.release_tickets_add(
        release=hotfix,
        actor=rita,
        tickets=[
            {
                "key": "SF-190",
                "title": "Payments captured twice after gateway timeout",
                "status": "Done",
            }
        ],
    )
    # The demo's history is told with the core and approval gates only (see demo/releases.py).
    with override_settings(SHIPCHECK_GATE_APPS={"releases", "approvals"}):
        emergency_approve(
            release=hotfix,
            environment=envs["production"],
            actor=people["cora"],
            justification="Customers are charged twice; every hour costs refunds and trust. "
            "The fix is one line in the retry handler.",
        )
        _approve(hotfix, ApprovalKind.SCOPE, people["paula"], "Only the retry fix.")
        for approver in ("adrian", "ana"):
            _approve(
                hotfix,
                ApprovalKind.DEPLOYMENT,
                people[approver],
                "Reviewed the diff.",
                envs["production"],
            )
        # The hotfix checklist: justified and the fix checked before production ...
        tick_through(hotfix, {2: 0}, people, storefront=True)
        meeting = meeting_schedule(
            release=hotfix, environment=envs["production"], scheduled_for=timezone.now(), actor=rita
        )
        meeting_decide(
            meeting=meeting,
            decision="go",
            actor=rita,
            reason="Emergency call: the fix is small, the harm of waiting is large.",
        )
        production = releases.release_promote(
            release=hotfix, environment=envs["production"], actor=eli
        )
        releases.deployment_finish(deployment=production, succeeded=True, actor=eli)
        # ... then deployed, verified and announced: the whole checklist is done.
        tick_through(hotfix, "all", people, storefront=True)
    hotfix.refresh_from_db()
    if hotfix.status == ReleaseStatus.IN_PROGRESS:
        releases.release_mark_released(
            release=hotfix, actor=rita, reason="Verified after the post-deploy window."
        )
    # Tell the story as it happened three days ago, all of it (the release, its approvals, the
    # go/no-go, the deployment, the review it owes), so the review was due yesterday.
    story_shift(hotfix, -timedelta(days=3), before=timezone.now())
    emergency_reviews_overdue_notify()
    hotfix.refresh_from_db()
    return hotfix
