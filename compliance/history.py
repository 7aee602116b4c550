"""The release-history report: every production deployment in a period, with its evidence.

For each deployment an auditor samples (SOC 2 CC8.1, ISO 27001 A.8.32): who
asked for the change, who approved it and when (before the deployment?), the
test evidence, the outcome, and any breach of separation of duties. Approvals
come from the approvals app's records; where that app is absent they are
read from its audit events (``approval.*``).
"""

from __future__ import annotations

from typing import cast

from django.apps import apps
from django.db.models import Q

from audit.filters import AuditFilters
from projects.choices import Tier
from releases.models import Deployment, Release, TestRun

# Design rule (DESIGN.md, "Approvals"): production needs two approvals from two people.
REQUIRED_PRODUCTION_APPROVERS = 2

HISTORY_COLUMNS = (
    ("project", "Project"),
    ("release", "Release"),
    ("deployment_id", "Deployment"),
    ("environment", "Environment"),
    ("deployed_at", "Deployed at"),
    ("status", "Outcome"),
    ("emergency", "Emergency"),
    ("requested_by", "Requested by"),
    ("release_manager", "Release manager"),
    ("deployed_by", "Deployed by"),
    ("approvers", "Approvers (approved at)"),
    ("approvals_before", "Approvals before deployment"),
    ("qa_signoff", "QA sign-off"),
    ("scope_approval", "Scope approval"),
    ("tests", "Test evidence"),
    ("verified_at", "Verified"),
    ("findings", "Separation-of-duties findings"),
)


def _deployments(filters: AuditFilters):
    qs = Deployment.objects.filter(environment__tier=Tier.PRODUCTION).select_related(
        "release",
        "release__project",
        "release__created_by",
        "release__release_manager",
        "environment",
        "deployed_by",
    )
    if filters.project is not None:
        qs = qs.filter(release__project_id=filters.project.pk)
    elif not filters.everything:
        qs = qs.filter(release__project_id__in=filters.project_ids)
    if filters.release_id:
        qs = qs.filter(release_id=filters.release_id)
    moment = Q()
    if filters.date_from:
        moment &= Q(created_at__gte=filters.date_from)
    if filters.date_to:
        moment &= Q(created_at__lt=filters.date_to)
    return qs.filter(moment).order_by("created_at", "id")


# Rows per page of the report, and per batch of its streamed exports: each page or batch costs
# the same handful of queries (deployments, approvals, test runs) whatever the period holds.
HISTORY_PAGE_SIZE = 50
HISTORY_MAX_PAGE_SIZE = 500
HISTORY_BATCH = 500


def release_history(filters: AuditFilters, *, limit: int = 5000) -> list[dict]:
    """One row per production deployment matching ``filters`` (project, release, date range)."""
    deployments = list(_deployments(filters)[:limit])
    return _rows_for(deployments)


def release_history_page(filters: AuditFilters, *, page, per_page: int = HISTORY_PAGE_SIZE):
    """One page of the report: ``(rows, page)`` where ``page`` is Django's paginator page.

    A page number past the end gives the last page; one that is not a number, the first.
    """
    from django.core.paginator import Paginator

    paginator = Paginator(_deployments(filters), per_page)
    current = paginator.get_page(page)
    return _rows_for(list(current.object_list)), current


def release_history_batches(filters: AuditFilters, *, batch: int | None = None):
    """Every row of the report, in batches of ``batch``, for exports that stream.

    Walks the deployments by (created_at, id) from where the last batch ended (keyset),
    so each batch costs the same however far into the period it is.
    """
    batch = batch or HISTORY_BATCH
    base = _deployments(filters)
    after = None
    while True:
        qs = base
        if after is not None:
            moment, pk = after
            qs = qs.filter(Q(created_at__gt=moment) | Q(created_at=moment, id__gt=pk))
        deployments = list(qs[:batch])
        if not deployments:
            return
        yield _rows_for(deployments)
        if len(deployments) < batch:
            return
        after = (deployments[-1].created_at, deployments[-1].pk)


def production_deployments_for(release: Release) -> list[dict]:
    deployments = list(
        Deployment.objects.filter(release=release, environment__tier=Tier.PRODUCTION)
        .select_related(
            "release",
            "release__project",
            "release__created_by",
            "release__release_manager",
            "environment",
            "deployed_by",
        )
        .order_by("created_at", "id")
    )
    return _rows_for(deployments)


def _rows_for(deployments: list[Deployment]) -> list[dict]:
    release_ids = {d.release_id for d in deployments}
    approvals = _approvals_by_release(release_ids)
    tests: dict[int, list[TestRun]] = {}
    for run in TestRun.objects.filter(release_id__in=release_ids).order_by("created_at", "id"):
        tests.setdefault(run.release_id, []).append(run)
    return [
        _row(d, approvals.get(d.release_id, []), tests.get(d.release_id, [])) for d in deployments
    ]


def _approvals_by_release(release_ids) -> dict[int, list[dict]]:
    """Every approval decision of these releases as plain dicts (from the approvals app or its events)."""
    found: dict[int, list[dict]] = {}
    Approval = _model("approvals", "Approval")
    if Approval is not None:
        for a in (
            Approval.objects.filter(release_id__in=release_ids)
            .select_related("person")
            .order_by("created_at", "id")
        ):
            found.setdefault(a.release_id, []).append(
                {
                    "kind": a.kind,
                    "environment_id": a.environment_id,
                    "person_id": a.person_id,
                    "person": a.person.get_username(),
                    "decision": a.decision,
                    "state": a.state,
                    "state_changed_at": a.state_changed_at,
                    "at": a.created_at,
                }
            )
        return found
    from audit.models import AuditEvent

    for e in AuditEvent.objects.filter(
        release_id__in=release_ids, action__startswith="approval."
    ).order_by("seq"):
        data = e.data if isinstance(e.data, dict) else {}
        # The filter on release_id__in leaves only events of a release.
        found.setdefault(cast(int, e.release_id), []).append(
            {
                "kind": data.get("kind", ""),
                "environment_id": data.get("environment_id"),
                "person_id": e.actor_id if e.actor_kind == "user" else None,
                "person": e.actor_label,
                "decision": data.get("decision", e.to_state),
                "state": "active",
                "state_changed_at": None,
                "at": e.created_at,
            }
        )
    return found


def _model(app_label: str, name: str):
    try:
        return apps.get_model(app_label, name)
    except LookupError:
        return None


def _counted_at(approval: dict, moment) -> bool:
    """Did this approval stand when the deployment started?"""
    if approval["decision"] not in ("approve", "approved") or approval["at"] > moment:
        return False
    if approval["state"] == "active":
        return True
    # Withdrawn or invalidated later: it still stood at the deployment if it changed afterwards.
    changed = approval["state_changed_at"]
    return changed is not None and changed > moment


def _row(deployment: Deployment, approvals: list[dict], runs: list[TestRun]) -> dict:
    release = deployment.release
    moment = deployment.started_at or deployment.created_at
    for_env = [
        a
        for a in approvals
        if a["kind"] in ("deployment", "emergency")
        and a["environment_id"] in (deployment.environment_id, None)
    ]
    standing = [a for a in for_env if _counted_at(a, moment)]
    late = [a for a in for_env if a["decision"] in ("approve", "approved") and a["at"] > moment]
    qa = [a for a in approvals if a["kind"] == "qa_signoff" and _counted_at(a, moment)]
    scope = [a for a in approvals if a["kind"] == "scope" and _counted_at(a, moment)]
    before = [r for r in runs if r.created_at <= moment]
    row = {
        "project": release.project.slug,
        "release": release.version,
        "release_id": release.pk,
        "deployment_id": deployment.pk,
        "environment": deployment.environment.name,
        "deployed_at": moment,
        "status": deployment.status,
        "emergency": release.is_emergency,
        "requested_by": release.created_by.get_username() if release.created_by else "",
        "requested_by_id": release.created_by_id,
        "release_manager": release.release_manager.get_username(),
        "deployed_by": deployment.deployed_by.get_username()
        if deployment.deployed_by
        else deployment.deployed_by_label,
        "deployed_by_id": deployment.deployed_by_id,
        "approvers": "; ".join(
            f"{a['person']} ({a['kind']}, {a['at']:%Y-%m-%d %H:%M})"
            for a in for_env
            if a["decision"] in ("approve", "approved")
        ),
        "approvals_before": len({a["person_id"] or a["person"] for a in standing}),
        "qa_signoff": ", ".join(sorted({a["person"] for a in qa})),
        "scope_approval": ", ".join(sorted({a["person"] for a in scope})),
        "tests": "; ".join(
            f"{r.name}: {r.passed}/{r.total} passed" + ("" if r.ok else f", {r.failures} failed")
            for r in before
        )
        or "",
        "tests_ok": bool(before) and all(r.ok for r in before),
        "verified_at": deployment.verified_at,
        "_standing": standing,
        "_late": late,
    }
    row["findings"] = "; ".join(deployment_findings(row))
    return row


def deployment_findings(row: dict) -> list[str]:
    """What an auditor would flag about one production deployment row."""
    findings = []
    standing = row["_standing"]
    people = {a["person_id"] or a["person"] for a in standing}
    emergency = [a for a in standing if a["kind"] == "emergency"]
    if len(people) < REQUIRED_PRODUCTION_APPROVERS and not emergency:
        findings.append(
            f"{len(people)} approver(s) before the deployment, {REQUIRED_PRODUCTION_APPROVERS} required"
        )
    if emergency:
        findings.append("deployed on the emergency path (one emergency approval)")
    for a in standing:
        if row["requested_by_id"] and a["person_id"] == row["requested_by_id"]:
            findings.append(f"{a['person']} approved their own change (release author)")
        if row["deployed_by_id"] and a["person_id"] == row["deployed_by_id"]:
            findings.append(f"{a['person']} approved and deployed")
    for a in row["_late"]:
        findings.append(f"{a['person']} approved after the deployment started")
    if not row["tests"]:
        findings.append("no test evidence before the deployment")
    elif not row["tests_ok"]:
        findings.append("deployed with failing tests")
    return findings


def history_public(row: dict) -> dict:
    """A row without the working fields (for CSV, JSON and templates)."""
    return {key: value for key, value in row.items() if not key.startswith("_")}
