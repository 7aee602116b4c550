"""The release's own sections: the summary with its findings, the scope and the test results."""

from __future__ import annotations

from compliance.history import deployment_findings, production_deployments_for
from compliance.record import Markdown, RecordContext, Section, Table
from compliance.record_sections.common import person_name

# --- Summary and separation of duties -----------------------------------------------


def summary_section(release, ctx: RecordContext) -> Section:
    section = Section("summary", "Release")
    section.facts = [
        ("Project", release.project.name),
        ("Version", release.version),
        ("Title", release.title),
        ("Type", release.get_type_display()),
        ("Status", release.get_status_display()),
        ("Emergency release", release.is_emergency),
        ("Release manager", person_name(release.release_manager)),
        ("Created by", person_name(release.created_by)),
        ("Created through API token", release.created_by_token_name),
        ("Created at", release.created_at),
        ("Artifact", release.artifact_version),
        ("Commit", release.commit_sha),
        ("Target date", release.target_date),
        ("Rollback plan", Markdown(release.rollback_plan)),
        ("Release notes", Markdown(release.notes)),
    ]
    for row in production_deployments_for(release):
        for finding in deployment_findings(row):
            section.findings.append(f"Production deployment #{row['deployment_id']}: {finding}")
    return section


# --- Scope ------------------------------------------------------------------------------


def scope_section(release, ctx: RecordContext) -> Section:
    section = Section("scope", "Scope: tickets and commits")
    section.tables.append(
        Table(
            "Tickets",
            [
                ("key", "Ticket"),
                ("title", "Title"),
                ("status", "Status"),
                ("url", "Link"),
                ("created_at", "Added"),
            ],
            [
                {
                    "key": t.key,
                    "title": t.title,
                    "status": t.status,
                    "url": t.url,
                    "created_at": t.created_at,
                }
                for t in release.tickets.order_by("key")
            ],
            empty="No tickets are linked to this release.",
        )
    )
    section.tables.append(
        Table(
            "Commits",
            [
                ("sha", "Commit"),
                ("author", "Author"),
                ("committed_at", "Committed"),
                ("message", "Message"),
            ],
            [
                {
                    "sha": c.sha,
                    "author": c.author,
                    "committed_at": c.committed_at,
                    "message": c.message.split("\n")[0],
                }
                for c in release.commits.order_by("committed_at", "id")
            ],
            empty="No commits are attached to this release.",
            mono=("sha",),
        )
    )
    return section


# --- Tests ----------------------------------------------------------------------------------


def tests_section(release, ctx: RecordContext) -> Section:
    section = Section("tests", "Test results")
    runs = list(release.test_runs.select_related("environment").order_by("created_at", "id"))
    section.tables.append(
        Table(
            "Test runs",
            [
                ("at", "Recorded"),
                ("name", "Suite"),
                ("environment", "Environment"),
                ("total", "Total"),
                ("passed", "Passed"),
                ("failures", "Failures"),
                ("errors", "Errors"),
                ("skipped", "Skipped"),
                ("coverage", "Coverage %"),
                ("by", "Reported by"),
                ("failing", "Failing tests"),
            ],
            [
                {
                    "at": r.created_at,
                    "name": r.name,
                    "environment": str(r.environment or ""),
                    "total": r.total,
                    "passed": r.passed,
                    "failures": r.failures,
                    "errors": r.errors,
                    "skipped": r.skipped,
                    "coverage": r.coverage_percent,
                    "by": r.recorded_by_label,
                    "failing": ", ".join(str(t) for t in (r.failing_tests or [])[:20]),
                }
                for r in runs
            ],
            empty="No test results were recorded for this release.",
        )
    )
    if runs and any(not r.ok for r in runs):
        section.notes.append("Some runs have failures or errors; see the failing tests column.")
    return section
