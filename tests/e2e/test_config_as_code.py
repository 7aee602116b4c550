"""The onboarding's configuration, made a second time by ``shipcheck config apply`` (issue 11).

One project is set up by people in the pages and the API (as in
test_onboarding.py); a second one is set up from a hand-written
``shipcheck.yml`` through the real CLI. ``config export`` of both must be
the same file, a second apply changes nothing, and a change made on a page
afterwards is exactly what ``plan`` reports.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from tests.e2e.test_onboarding import (
    call,
    configure,
    create_project,
    invite_and_join,
    set_up_first_administrator,
)

pytestmark = pytest.mark.django_db(transaction=True)

TEAM_FILE = """\
version: 1
project:
  name: Ledger
  description: Accounting service
environments:
  - name: dev
    display_name: Development
    tier: development
  - name: qa
    display_name: QA
    tier: testing
  - name: staging
    display_name: Staging
    tier: staging
    monitoring:
      health_checks:
        - name: Ledger health
          url: {health_url}
          expected_statuses: "200"
          json_path: $.status
          expected_value: ok
  - name: production
    display_name: Production
    tier: production
    monitoring:
      policy:
        poll_interval: 2
        post_deploy_duration: 6
      health_checks:
        - name: Ledger health
          url: {health_url}
          expected_statuses: "200"
          json_path: $.status
          expected_value: ok
roles:
  admin: [ops@example.com]
  release_manager: [rita@example.com]
  engineer: [eli@example.com]
  qa: [quinn@example.com]
  product_owner: [paula@example.com]
  approver: [paula@example.com, adrian@example.com]
checklists:
  release_types:
    minor: ledger-release-procedure
"""


def cli(live_server, tmp_path, token: str, *args: str) -> subprocess.CompletedProcess:
    environment = {
        **os.environ,
        "SHIPCHECK_URL": live_server.url,
        "SHIPCHECK_TOKEN": token,
        "SHIPCHECK_RETRIES": "0",
        "PYTHONPATH": str(Path(settings.BASE_DIR)),
    }
    environment.pop("SHIPCHECK_PROJECT", None)
    return subprocess.run(
        [sys.executable, "-m", "shipcheck_cli", *args],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
    return result.stdout


def test_config_apply__gives_the_configuration_people_made_in_the_browser(
    live_server, smtp_server, health_endpoint, settings, tmp_path
):
    # "ledger": made by people, in the pages and the API.
    admin = set_up_first_administrator()
    create_project(admin)
    invite_and_join(admin, smtp_server)
    configure(admin, health_endpoint, settings)

    # "books": an empty project, its template made in the API, the rest from the file.
    call(admin, "post", "/api/v1/projects/", {"name": "Books"}, expect=201)
    shipped = next(
        t
        for t in call(admin, "get", "/api/v1/checklist-templates/?project=books")["results"]
        if t["name"] == "Release procedure"
    )
    call(
        admin,
        "post",
        "/api/v1/checklist-templates/",
        {
            "project": "books",
            "name": "Ledger release procedure",
            "description": "Our procedure, from the shipped one.",
            "copy_from": shipped["id"],
        },
        expect=201,
    )
    token = call(
        admin,
        "post",
        "/api/v1/projects/books/tokens/",
        {"name": "repository", "scopes": ["read", "config"]},
        expect=201,
    )["secret"]
    team_file = tmp_path / "shipcheck.yml"
    team_file.write_text(TEAM_FILE.format(health_url=health_endpoint.url("/healthz")))

    plan = ok(cli(live_server, tmp_path, token, "config", "plan", "-f", "shipcheck.yml"))
    assert "Applying shipcheck.yml to books would make" in plan, plan
    assert "environments[qa]" in plan and "roles.qa" in plan, plan
    # plan changed nothing: books still has the three environments it was created with.
    listed = call(admin, "get", "/api/v1/projects/books/environments/")
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert [e["name"] for e in rows] == ["dev", "staging", "production"]
    applied = ok(cli(live_server, tmp_path, token, "config", "apply", "-f", "shipcheck.yml"))
    assert applied.startswith("Applied shipcheck.yml to books:"), applied
    again = ok(cli(live_server, tmp_path, token, "config", "apply", "-f", "shipcheck.yml"))
    assert again.strip() == "No changes: books already is what shipcheck.yml describes."

    # Both exports are the same file: the browser and the file made the same configuration.
    books = ok(cli(live_server, tmp_path, token, "config", "export", "--project", "books"))
    ledger = call(admin, "get", "/api/v1/projects/ledger/config/")["yaml"]
    # The header comment names the project; the configuration itself must be the same.
    assert "project 'books'" in books and "project 'ledger'" in ledger
    assert yaml.safe_load(books) == yaml.safe_load(ledger)

    # The team keeps the export in its repository. A file says only what it names (the
    # hand-written one has no approvals sections); the export names everything.
    team_file.write_text(books)
    assert "No changes" in ok(
        cli(live_server, tmp_path, token, "config", "plan", "-f", "shipcheck.yml")
    )

    # A change on a page shows in plan as exactly that change, and nothing else.
    # The staging card's form on the policies page, as the browser shows it.
    policies = admin.get("/approvals/projects/books/policies/").content.decode()
    card = policies[policies.index('id="policy-staging"') :]
    staging_id = re.search(r'name="environment" value="(\d+)"', card).group(1)
    page = admin.post(
        "/approvals/projects/books/policies/",
        {
            "environment": staging_id,
            "required_approvals": "1",
            "approver_roles": ["approver", "emergency_approver"],
        },
    )
    assert page.status_code == 302, page.content.decode()
    plan = ok(cli(live_server, tmp_path, token, "config", "plan", "-f", "shipcheck.yml"))
    changes = [line.strip() for line in plan.splitlines() if line.startswith("  ")]
    assert "would make 1 change(s)" in plan, plan
    assert changes == ["~ environments[staging].approvals.required_approvals: 1 → 0"], plan
