"""A team adopts Shipcheck on an empty instance, through its pages and API only (issue 11).

The first administrator is made on /setup/, creates a project with four
environments, invites five people by e-mail (a real SMTP server receives the
invitations), each of them joins through the link in their e-mail, the
checklist template and the health checks are configured, and a release goes
from dev to production with every gate satisfied by the people it asks for.
No demo data, no shell, no model writes: the scheduler alone is played by the
test (``monitoring_tick``), as a worker would run it.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlparse

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from monitoring.services import monitoring_tick
from projects.models import Membership

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "release day 2026!"
ENVIRONMENTS = [
    ("dev", "Development", "development"),
    ("qa", "QA", "testing"),
    ("staging", "Staging", "staging"),
    ("production", "Production", "production"),
]
# Five people, covering everything a release needs on its way to production.
INVITEES = {
    "rita": ["release_manager"],
    "eli": ["engineer"],
    "quinn": ["qa"],
    "paula": ["product_owner", "approver"],
    "adrian": ["approver"],
}

# The gates that are closed before each promotion, on a team's first release.
EXPECTED_GATES = {
    "dev": set(),
    "qa": set(),
    "staging": {"checklist"},
    "production": {
        "checklist",
        "qa_signoff",
        "scope_approval",
        "deployment_approvals",
        "go_no_go",
        "monitoring_prechecks",
    },
}


def call(client: Client, method: str, path: str, data=None, expect: int = 200):
    response = getattr(client, method)(path, data=data, content_type="application/json")
    assert response.status_code == expect, (method, path, response.status_code, response.content)
    return response.json() if response.content else None


def gates(client: Client, release_id: int, environment: str) -> dict:
    """The gate report for an environment: ``{code: (state, reason)}``, open or closed."""
    response = client.get(f"/api/v1/releases/{release_id}/gates/{environment}/")
    assert response.status_code in (200, 409), response.content
    body = response.json()
    listed = body["gates"] if response.status_code == 200 else body["details"]["gates"]
    return {g["code"]: (g["state"], g["reason"]) for g in listed}


def closed(report: dict) -> dict:
    return {code: reason for code, (state, reason) in report.items() if state == "closed"}


def set_up_first_administrator() -> Client:
    admin = Client()
    first = admin.get("/login/")
    assert first.status_code == 302 and first["Location"].startswith("/setup/")
    page = admin.get("/setup/")
    assert page.status_code == 200 and "Set up Shipcheck" in page.content.decode()
    created = admin.post(
        "/setup/",
        {
            "username": "ops",
            "email": "ops@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert created.status_code == 302 and created["Location"] == "/projects/new/"
    # The first-run page is gone once an account exists.
    assert Client().get("/setup/").status_code == 404
    # The administrator signs in again with the password, as they will tomorrow.
    admin = Client()
    signed_in = admin.post("/login/", {"username": "ops", "password": PASSWORD})
    assert signed_in.status_code == 302, signed_in.content
    return admin


def create_project(admin: Client) -> None:
    form = {
        "name": "Ledger",
        "slug": "",
        "description": "Accounting service",
        "env-TOTAL_FORMS": "6",
        "env-INITIAL_FORMS": "0",
        "env-MIN_NUM_FORMS": "0",
        "env-MAX_NUM_FORMS": "1000",
    }
    for index in range(6):
        name, display, tier = ENVIRONMENTS[index] if index < 4 else ("", "", "")
        form |= {
            f"env-{index}-name": name,
            f"env-{index}-display_name": display,
            f"env-{index}-tier": tier,
        }
    response = admin.post("/projects/new/", form)
    assert response.status_code == 302, response.content.decode()
    assert response["Location"] == "/projects/ledger/settings/people/"
    people_page = admin.get(response["Location"])
    assert "created with 4 environments" in people_page.content.decode()
    listed = call(admin, "get", "/api/v1/projects/ledger/environments/")
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert [(e["name"], e["tier"]) for e in rows] == [(n, t) for n, _, t in ENVIRONMENTS]


def invite_and_join(admin: Client, smtp_server) -> dict[str, Client]:
    for username, roles in INVITEES.items():
        call(
            admin,
            "post",
            "/api/v1/projects/ledger/invitations/",
            {"email": f"{username}@example.com", "roles": roles},
            expect=201,
        )
    clients = {}
    for username in INVITEES:
        link = smtp_server.link(f"{username}@example.com")
        client = Client()
        opened = client.get(urlparse(link).path)
        assert opened.status_code == 302 and opened["Location"] == "/invitations/accept/"
        accepted = client.post(
            "/invitations/accept/",
            {"username": username, "password": PASSWORD, "password_again": PASSWORD},
        )
        assert accepted.status_code == 302, accepted.content.decode()
        assert accepted["Location"] == "/projects/ledger/"
        project_page = client.get("/projects/ledger/")
        assert project_page.status_code == 200 and "Ledger" in project_page.content.decode()
        # Signed out and in again: the password they chose works.
        client = Client()
        assert (
            client.post("/login/", {"username": username, "password": PASSWORD}).status_code == 302
        )
        clients[username] = client
    members = call(admin, "get", "/api/v1/projects/ledger/members/")
    rows = members["results"] if isinstance(members, dict) else members
    held = {
        (m["user"] if isinstance(m["user"], str) else m["user"]["username"], m["role"])
        for m in rows
    }
    for username, roles in INVITEES.items():
        for role in roles:
            assert (username, role) in held, (username, role, held)
    return clients


def configure(admin: Client, health_endpoint, settings) -> None:
    # The checklist: the project's own copy of the shipped release procedure.
    templates = call(admin, "get", "/api/v1/checklist-templates/?project=ledger")
    shipped = next(t for t in templates["results"] if t["name"] == "Release procedure")
    own = call(
        admin,
        "post",
        "/api/v1/checklist-templates/",
        {
            "project": "ledger",
            "name": "Ledger release procedure",
            "description": "Our procedure, from the shipped one.",
            "release_types": ["minor"],
            "copy_from": shipped["id"],
        },
        expect=201,
    )
    assert own["release_types"] == ["minor"]
    # Adapted to the team: QA's regression run on qa before staging; then published.
    step = call(
        admin,
        "post",
        f"/api/v1/checklist-templates/{own['id']}/draft/steps/",
        {"title": "Regression on qa", "phase": "before_staging"},
        expect=201,
    )["steps"][-1]
    assert step["title"] == "Regression on qa", step
    call(
        admin,
        "post",
        f"/api/v1/checklist-template-steps/{step['id']}/items/",
        {"text": "Regression suite green on qa", "role": "qa", "evidence_required": True},
        expect=201,
    )
    call(
        admin,
        "post",
        f"/api/v1/checklist-templates/{own['id']}/publish/",
        {"change_note": "Ledger's first version"},
    )

    # Health checks: the team's endpoint is internal, so it goes on the allowlist.
    settings.SHIPCHECK_FETCH_ALLOWLIST = ["127.0.0.1"]
    for environment in ("staging", "production"):
        call(
            admin,
            "post",
            f"/api/v1/monitoring/projects/ledger/environments/{environment}/health-checks/",
            {
                "name": "Ledger health",
                "url": health_endpoint.url("/healthz"),
                "expected_statuses": "200",
                "json_path": "$.status",
                "expected_value": "ok",
            },
            expect=201,
        )
    # A short post-deploy window in production, within the scheduler's limits.
    policy = call(
        admin,
        "patch",
        "/api/v1/monitoring/projects/ledger/environments/production/policy/",
        {"poll_interval_seconds": 2, "post_deploy_duration_seconds": 6},
    )
    assert policy["saved"] is True


def deploy(eli: Client, release_id: int, environment: str) -> int:
    started = call(
        eli,
        "post",
        f"/api/v1/releases/{release_id}/promote/",
        {"environment": environment},
        expect=201,
    )
    finished = call(
        eli,
        "post",
        f"/api/v1/deployments/{started['id']}/finish/",
        {"status": "succeeded", "reason": "Smoke tests passed."},
    )
    assert finished["status"] == "succeeded"
    return started["id"]


def tick_checklist(clients: dict[str, Client], release_id: int, tier: str) -> None:
    """Each open required item the gate of ``tier`` waits for, ticked by a holder of its role."""
    by_role = {role: name for name, roles in INVITEES.items() for role in roles}
    checklist = call(clients["rita"], "get", f"/api/v1/releases/{release_id}/checklist/")
    gate = next(g for g in checklist["gates"] if g["tier"] == tier)
    missing = set(gate["missing_items"])
    assert missing and not gate["open"], gate
    ticked = 0
    for step in checklist["steps"]:
        for item in step["items"]:
            if item["text"] not in missing or item["status"] != "open" or not item["required"]:
                continue
            person = by_role.get(item["role"], "rita")
            call(
                clients[person],
                "post",
                f"/api/v1/checklist-items/{item['id']}/tick/",
                {"evidence": "CI run 4411", "note": f"Checked by {person}."},
            )
            ticked += 1
    assert ticked >= len(missing)


def test_onboarding__empty_instance_to_a_release_in_production(
    smtp_server, health_endpoint, settings
):
    User = get_user_model()
    assert not User.objects.exists()

    admin = set_up_first_administrator()
    create_project(admin)
    people = invite_and_join(admin, smtp_server)
    assert len(smtp_server.messages) == 5
    configure(admin, health_endpoint, settings)
    rita, eli, quinn, paula, adrian = (people[n] for n in INVITEES)

    release = call(
        rita,
        "post",
        "/api/v1/releases/",
        {
            "project": "ledger",
            "version": "1.0.0",
            "title": "First release with Shipcheck",
            "rollback_plan": "Redeploy 0.9.0; the schema change is additive.",
        },
        expect=201,
    )
    rid = release["id"]
    checklist = call(rita, "get", f"/api/v1/releases/{rid}/checklist/")
    assert checklist["template"] == "Ledger release procedure"

    for environment in ("dev", "qa", "staging", "production"):
        report = closed(gates(rita, rid, environment))
        # What each environment asks for, read from the gates' reasons.
        assert set(report) == EXPECTED_GATES[environment], (environment, report)
        if "checklist" in report:
            tier = dict((n, t) for n, _, t in ENVIRONMENTS)[environment]
            tick_checklist(people, rid, tier)
        if "qa_signoff" in report:
            previous = {"qa": "dev", "staging": "qa", "production": "staging"}[environment]
            call(
                quinn,
                "post",
                f"/api/v1/release-approvals/{rid}/approve/",
                {"kind": "qa_signoff", "environment": previous},
                expect=201,
            )
        if "scope_approval" in report:
            call(
                paula,
                "post",
                f"/api/v1/release-approvals/{rid}/approve/",
                {"kind": "scope", "role": "product_owner"},
                expect=201,
            )
        if "deployment_approvals" in report:
            for approver in (paula, adrian):
                call(
                    approver,
                    "post",
                    f"/api/v1/release-approvals/{rid}/approve/",
                    {"kind": "deployment", "environment": environment, "role": "approver"},
                    expect=201,
                )
        if "monitoring_prechecks" in report:
            page = admin.post(f"/monitoring/projects/ledger/environments/{environment}/prechecks/")
            assert page.status_code == 302
        if "go_no_go" in report:
            meeting = call(
                rita,
                "post",
                "/api/v1/go-no-go/",
                {
                    "release": rid,
                    "environment": environment,
                    "scheduled_for": timezone.now().isoformat(),
                },
                expect=201,
            )
            call(
                rita,
                "post",
                f"/api/v1/go-no-go/{meeting['id']}/decide/",
                {"decision": "go", "reason": "Checklist done, approvals in, health green."},
            )
        still_closed = closed(gates(rita, rid, environment))
        assert still_closed == {}, (environment, still_closed)
        deployment_id = deploy(eli, rid, environment)

    # Production's post-deploy window: the scheduler polls the real health endpoint.
    window = call(rita, "get", f"/api/v1/monitoring/deployments/{deployment_id}/")["windows"][0]
    assert window["status"] in ("pending", "running"), window
    started = timezone.now()
    for slot in range(1, 5):
        monitoring_tick(now=started + timedelta(seconds=2 * slot + 0.1))
    monitoring_tick(now=started + timedelta(seconds=30))
    window = call(rita, "get", f"/api/v1/monitoring/windows/{window['id']}/")
    assert window["status"] == "passed", window
    assert health_endpoint.hits["/healthz"] >= 3

    final = call(rita, "get", f"/api/v1/releases/{rid}/")
    assert final["status"] == "released", final
    assert Membership.objects.filter(project__slug="ledger").count() == 7
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "project.created",
        "invitation.accepted",
        "membership.granted",
        "checklist.item_ticked",
        "approval.approved",
        "meeting.decided",
        "deployment.succeeded",
    } <= actions
