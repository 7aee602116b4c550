"""Request and response examples shown in the OpenAPI schema for /api/v1/ci/..."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample

RELEASE_CREATE = OpenApiExample(
    "Create 1.3.0",
    request_only=True,
    value={
        "version": "1.3.0",
        "title": "Saved cards",
        "type": "minor",
        "rollback_plan": "Redeploy 1.2.4; the migration is backwards compatible.",
        "artifact_version": "registry.example.com/payments:1.3.0",
        "commit_sha": "9fceb02d0ae598e95dc970b74767f19372d61af8",
    },
)

RELEASE_OUT = OpenApiExample(
    "A release",
    response_only=True,
    status_codes=["200", "201"],
    value={
        "id": 42,
        "project": "payments",
        "version": "1.3.0",
        "type": "minor",
        "title": "Saved cards",
        "description": "",
        "notes": "",
        "rollback_plan": "Redeploy 1.2.4; the migration is backwards compatible.",
        "release_manager": "rita",
        "created_by": "rita",
        "created_by_token": "GitHub Actions: deploy",
        "target_date": None,
        "status": "planned",
        "artifact_version": "registry.example.com/payments:1.3.0",
        "commit_sha": "9fceb02d0ae598e95dc970b74767f19372d61af8",
        "is_emergency": False,
        "created_at": "2026-03-02T09:15:00Z",
        "updated_at": "2026-03-02T09:15:00Z",
        "web_url": "/releases/42/",
    },
)

COMMITS_LIST = OpenApiExample(
    "Commits as a list",
    request_only=True,
    value={
        "commits": [
            {
                "sha": "9fceb02d0ae598e95dc970b74767f19372d61af8",
                "message": "Store card tokens",
                "author": "Eli <eli@example.com>",
                "committed_at": "2026-03-01T16:04:11+01:00",
            }
        ]
    },
)

COMMITS_GIT_LOG = OpenApiExample(
    "Raw git log output",
    request_only=True,
    value={
        "git_log": "\u001e9fceb02d0ae598e95dc970b74767f19372d61af8\u001fEli <eli@example.com>\u001f"
        "2026-03-01T16:04:11+01:00\u001fStore card tokens\n\nPAY-142\n"
    },
)

COMMITS_OUT = OpenApiExample(
    "Commits attached", response_only=True, status_codes=["200"], value={"added": 1, "total": 17}
)

TICKETS_IN = OpenApiExample(
    "Two tickets",
    request_only=True,
    value={
        "tickets": [
            {
                "key": "PAY-142",
                "title": "Save cards for later",
                "url": "https://jira.example.com/browse/PAY-142",
                "status": "Done",
            },
            {"key": "PAY-150", "title": "Card expiry reminder"},
        ]
    },
)

TICKETS_OUT = OpenApiExample(
    "Tickets in scope",
    response_only=True,
    status_codes=["200"],
    value={
        "tickets": [
            {
                "key": "PAY-142",
                "title": "Save cards for later",
                "url": "https://jira.example.com/browse/PAY-142",
                "status": "Done",
            },
            {"key": "PAY-150", "title": "Card expiry reminder", "url": "", "status": ""},
        ]
    },
)

DEPLOY_STARTED = OpenApiExample(
    "Deployment started",
    request_only=True,
    value={
        "environment": "staging",
        "status": "started",
        "artifact_version": "registry.example.com/payments:1.3.0",
        "commit_sha": "9fceb02d0ae598e95dc970b74767f19372d61af8",
    },
)

DEPLOY_SUCCEEDED = OpenApiExample(
    "Deployment succeeded",
    request_only=True,
    value={"environment": "staging", "status": "succeeded", "reason": "Smoke tests green."},
)

DEPLOYMENT_OUT = OpenApiExample(
    "A deployment",
    response_only=True,
    status_codes=["200", "201"],
    value={
        "id": 7,
        "release": 42,
        "release_version": "1.3.0",
        "environment": "staging",
        "status": "in_progress",
        "strategy": "all_at_once",
        "deployed_by": "token:github-actions",
        "artifact_version": "registry.example.com/payments:1.3.0",
        "commit_sha": "9fceb02d0ae598e95dc970b74767f19372d61af8",
        "notes": "",
        "created_at": "2026-03-02T10:00:00Z",
        "started_at": "2026-03-02T10:00:00Z",
        "finished_at": None,
        "verified_at": None,
    },
)

_GATES = [
    {
        "code": "release_open",
        "title": "Release is open",
        "state": "open",
        "reason": "The release is in progress.",
    },
    {
        "code": "order",
        "title": "Promotion order",
        "state": "open",
        "reason": "Deployed successfully to Staging first.",
    },
    {
        "code": "rollback_plan",
        "title": "Rollback plan",
        "state": "open",
        "reason": "A rollback plan is written.",
    },
    {
        "code": "environment_free",
        "title": "Environment free",
        "state": "open",
        "reason": "No other deployment is running in Production.",
    },
]

GATE_OPEN = OpenApiExample(
    "All gates open",
    response_only=True,
    status_codes=["200"],
    value={"release": "1.3.0", "environment": "production", "open": True, "gates": _GATES},
)

GATE_CLOSED_ERROR = OpenApiExample(
    "A gate is closed",
    response_only=True,
    status_codes=["409"],
    value={
        "error": "gate_closed",
        "message": "1.3.0 may not enter Production: Two production approvals are needed; 0 given.",
        "details": {
            "environment": "production",
            "gates": [
                *_GATES,
                {
                    "code": "production_approvals",
                    "title": "Production approvals",
                    "state": "closed",
                    "reason": "Two production approvals are needed; 0 given.",
                },
            ],
        },
    },
)

TEST_RUN_IN = OpenApiExample(
    "A JUnit report",
    request_only=True,
    value={
        "name": "unit",
        "environment": "staging",
        "coverage_percent": 87.5,
        "junit_xml": '<testsuite name="unit" tests="2" time="1.5"><testcase classname="cards" name="test_save" '
        'time="0.5"/><testcase classname="cards" name="test_expiry" time="1.0"><failure '
        'message="boom"/></testcase></testsuite>',
    },
)

TEST_RUN_OUT = OpenApiExample(
    "Recorded test run",
    response_only=True,
    status_codes=["201"],
    value={
        "id": 3,
        "release": "1.3.0",
        "name": "unit",
        "environment": "staging",
        "total": 2,
        "passed": 1,
        "failures": 1,
        "errors": 0,
        "skipped": 0,
        "duration_seconds": 1.5,
        "coverage_percent": 87.5,
        "failing_tests": ["cards.test_expiry"],
        "ok": False,
        "created_at": "2026-03-02T10:05:00Z",
    },
)

WHOAMI_OUT = OpenApiExample(
    "An API token",
    response_only=True,
    status_codes=["200"],
    value={
        "kind": "token",
        "name": "github-actions",
        "project": "payments",
        "scopes": ["deployments", "read", "releases", "test_results"],
        "expires_at": "2026-06-01T00:00:00Z",
    },
)
