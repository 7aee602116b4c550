"""The checklist templates shipped with Shipcheck.

Written from the team's release procedure documents (a seven-step release
procedure, the emergency path for hotfixes, the environment checks before a
production deployment). A project without templates of its own uses these;
an admin can copy one into the project and adapt it.

Each item is ``(text, role, options)`` where options may hold ``optional``
(not needed for the step to be complete) and ``evidence`` (ticking needs a
link or a reference such as a CI run id).
"""

from __future__ import annotations

from typing import Any

RM, ENG, QA, PO, EMERGENCY = (
    "release_manager",
    "engineer",
    "qa",
    "product_owner",
    "emergency_approver",
)
EVIDENCE = {"evidence": True}
OPTIONAL = {"optional": True}

RELEASE_PROCEDURE: dict[str, Any] = {
    "slug": "release-procedure",
    "name": "Release procedure",
    "description": (
        "The full path of a planned release: prepare the branch, prove it on staging, get ready, "
        "deploy to production behind a canary, verify, and wrap up. Each step says what done looks like."
    ),
    "release_types": ["major", "minor", "patch", "security", "beta"],
    "steps": [
        {
            "title": "Prepare the release branch",
            "phase": "before_staging",
            "description": "Cut the release branch, bump the version and the changelog, tag a release "
            "candidate and let CI build it.",
            "expected_output": "A tagged release candidate on its own branch, built green by CI.",
            "items": [
                ("Release branch cut from the main line", ENG, {}),
                ("Version number bumped everywhere it appears", ENG, {}),
                ("Changelog lists every change in this release", ENG, {}),
                ("Breaking changes written up for the people they affect", ENG, {}),
                ("Release candidate tagged in git", ENG, EVIDENCE),
                ("CI pipeline green on the release candidate", ENG, EVIDENCE),
                ("First draft of the release notes written", RM, {}),
            ],
        },
        {
            "title": "Deploy to staging",
            "phase": "before_production",
            "description": "Ship the candidate to staging with exactly the process production will use, "
            "then check that the right build is running and healthy.",
            "expected_output": "The candidate runs on staging and reports healthy.",
            "items": [
                ("Candidate deployed to staging with the production procedure", ENG, {}),
                ("Version reported by staging matches the release tag", ENG, {}),
                ("Database migrations applied cleanly on staging", ENG, {}),
                ("Configuration and secrets for this release set on staging", ENG, {}),
                ("Health endpoint answers healthy on staging", ENG, EVIDENCE),
            ],
        },
        {
            "title": "Validate on staging",
            "phase": "before_production",
            "description": "Run the automated suites, smoke-test the critical journeys by hand, and check "
            "every new feature against its acceptance criteria. Fix on the release branch "
            "and re-tag when something breaks.",
            "expected_output": "Every suite passes on staging; QA accepts the release for production.",
            "items": [
                ("End-to-end suite passes on staging", QA, EVIDENCE),
                ("Integration suite passes on staging", QA, EVIDENCE),
                ("Manual smoke test of the critical journeys done", QA, {}),
                ("New features checked against their acceptance criteria", QA, {}),
                ("Edge cases explored", QA, OPTIONAL),
                ("No performance regression compared with the last release", QA, {}),
                ("Bugs found here fixed and a new candidate tagged", ENG, OPTIONAL),
            ],
        },
        {
            "title": "Get ready for production",
            "phase": "before_production",
            "description": "Back up, rehearse the way back, warn the on-call team, confirm the window "
            "and make sure the people and dashboards are there for the whole deployment.",
            "expected_output": "Everything is in place; the team is ready to go to production.",
            "items": [
                ("Production database backup taken", ENG, EVIDENCE),
                ("Rollback procedure written down and rehearsed", ENG, EVIDENCE),
                ("On-call team told when the deployment happens", RM, {}),
                ("Deployment window agreed", RM, {}),
                ("Monitoring dashboards open and watched", ENG, {}),
                ("Deployment team free for the window plus one hour", RM, {}),
                ("Feature flags set up for production", ENG, OPTIONAL),
            ],
        },
        {
            "title": "Deploy to production",
            "phase": "after_production",
            "description": "Deploy with the validated process: send a small share of traffic (1–5 %) to "
            "the new version, watch it for a quarter of an hour, then roll out fully while "
            "the old version stays ready to take traffic back.",
            "expected_output": "The new version serves all production traffic.",
            "items": [
                ("Team told that the deployment is starting", RM, {}),
                ("Database migrations applied in production", ENG, {}),
                ("Canary watched for 15 minutes at a small share of traffic", ENG, {}),
                ("No rise in errors during the canary, full rollout started", ENG, {}),
                ("Previous version kept deployable for a quick rollback", ENG, {}),
                ("Health and version endpoints checked in production", ENG, EVIDENCE),
                ("Team told that the deployment is finished", RM, {}),
            ],
        },
        {
            "title": "Verify production",
            "phase": "after_production",
            "description": "Smoke-test production, then watch error rates, response times (p50, p95, p99) "
            "and database timings for 30 to 60 minutes against the numbers from before the "
            "deployment.",
            "expected_output": "Production is healthy and every critical journey works.",
            "items": [
                ("Sign-in works in production", QA, {}),
                ("Core journeys work in production", QA, {}),
                ("New features work in production", QA, {}),
                ("Error rate no higher than before the deployment", ENG, {}),
                ("Response times no slower than before the deployment", ENG, {}),
                ("Database query times normal", ENG, {}),
                ("Background jobs running normally", ENG, {}),
                ("Watched for the full 30 to 60 minutes", ENG, {}),
                ("Decided that no rollback is needed", RM, {}),
            ],
        },
        {
            "title": "Wrap up the release",
            "phase": "after_production",
            "description": "Merge the release branch back, tag the final version, publish the notes, tell "
            "the people who care and close the release ticket.",
            "expected_output": "The release is tagged, announced and closed.",
            "items": [
                ("Release branch merged back into the main line", ENG, {}),
                ("Final version tagged", ENG, {}),
                ("Release notes published", RM, EVIDENCE),
                ("Stakeholders told about the release", RM, {}),
                ("Release ticket closed", RM, {}),
                ("Previous version kept available for 24 to 48 hours", ENG, {}),
                ("Lessons from this deployment written down", RM, OPTIONAL),
            ],
        },
    ],
}

HOTFIX: dict[str, Any] = {
    "slug": "hotfix",
    "name": "Hotfix (emergency path)",
    "description": (
        "The short path for a critical fix that cannot wait for the next release: it may skip staging "
        "with an emergency approval and a written justification, and the whole team hears about it fast."
    ),
    "release_types": ["hotfix"],
    "steps": [
        {
            "title": "Justify and authorise",
            "phase": "before_production",
            "description": "Say why this cannot wait and get a tech lead or the CTO to agree.",
            "expected_output": "A written justification and an emergency approval on record.",
            "items": [
                ("Ticket marked HOTFIX with the justification written in it", RM, EVIDENCE),
                ("Tech lead or CTO agreed to the emergency release", EMERGENCY, {}),
            ],
        },
        {
            "title": "Check the fix",
            "phase": "before_production",
            "description": "Even in a hurry: a second pair of eyes, a green build and a way back.",
            "expected_output": "A reviewed, tested fix and a known-good version to fall back to.",
            "items": [
                ("Fix reviewed by at least one other engineer", ENG, EVIDENCE),
                ("Automated tests pass on the fix", ENG, EVIDENCE),
                ("Previous artifact ready to redeploy", ENG, {}),
            ],
        },
        {
            "title": "Deploy and verify",
            "phase": "after_production",
            "description": "Deploy, smoke-test within ten minutes and keep an eye on the errors.",
            "expected_output": "The fix is live and production is healthy.",
            "items": [
                ("Smoke test in production within ten minutes", QA, {}),
                ("Error rate back to normal", ENG, {}),
            ],
        },
        {
            "title": "Tell everyone",
            "phase": "after_production",
            "description": "An emergency release is announced to all teams within the hour.",
            "expected_output": "Every team knows what changed and why.",
            "items": [
                ("All teams told within one hour of the deployment", RM, {}),
                ("Affected stakeholders e-mailed", RM, OPTIONAL),
                ("Ticket closed with logs and notes", RM, {}),
            ],
        },
    ],
}

ENVIRONMENT_READINESS: dict[str, Any] = {
    "slug": "environment-readiness",
    "name": "Environment readiness",
    "description": (
        "Checks on the production environment itself before anything is deployed to it: healthy "
        "servers, reachable database, valid certificates, usable backups and a way back."
    ),
    "release_types": [],
    "steps": [
        {
            "title": "Environment health",
            "phase": "before_production",
            "description": "Make sure the servers can take a deployment.",
            "expected_output": "Servers, database and network are healthy.",
            "items": [
                ("CPU below 80 % and memory below 70 % on every server", ENG, {}),
                ("Database answers a test query", ENG, {}),
                ("TLS certificates valid for at least the next two weeks", ENG, {}),
                ("Network paths between services work", ENG, {}),
                ("Enough free disk on every production server", ENG, {}),
            ],
        },
        {
            "title": "Backups and the way back",
            "phase": "before_production",
            "description": "A deployment is only as safe as the restore behind it.",
            "expected_output": "Fresh backups that are known to restore, and rollback artifacts at hand.",
            "items": [
                ("Production database backup complete", ENG, EVIDENCE),
                ("Configuration files backed up", ENG, {}),
                ("Restore tested on staging", ENG, OPTIONAL),
                ("Rollback artifacts available in the artifact store", ENG, EVIDENCE),
                ("Artifact version matches the git tag", ENG, {}),
            ],
        },
    ],
}

SHIPPED_TEMPLATES: tuple[dict[str, Any], ...] = (RELEASE_PROCEDURE, HOTFIX, ENVIRONMENT_READINESS)
