"""A project configured the way a team would (checks with secret headers, a rollback hook,
stricter approvals, a template of its own), and helpers to read exports."""

from __future__ import annotations

import pytest
import yaml

from approvals.services import approval_policy_update
from checklists.services import template_create
from monitoring.choices import CheckKind
from monitoring.services.config import check_create, policy_update

SECRETS = {
    "PAYMENTS_HOOK_TOKEN": "hook-secret-1",
    "PAYMENTS_API_TOKEN": "api-secret-1",
}


@pytest.fixture
def configured(project, people, envs):
    """Payments with monitoring on production, a rollback hook and a checklist template of its own."""
    production = envs["production"]
    policy_update(
        environment=production,
        actor=people.adam,
        poll_interval=15,
        canary_percent=10,
        rollback_hook_url="https://deploy.example.com/rollback",
        rollback_hook_secret=SECRETS["PAYMENTS_HOOK_TOKEN"],
    )
    check_create(
        environment=production,
        kind=CheckKind.HEALTH,
        actor=people.adam,
        name="API health",
        url="https://payments.example.com/healthz",
        headers={"Authorization": SECRETS["PAYMENTS_API_TOKEN"]},
    )
    check_create(
        environment=production,
        kind=CheckKind.METRIC,
        actor=people.adam,
        name="Error rate",
        url="https://prometheus.example.com",
        query="sum(rate(http_errors_total[5m]))",
        max_value=0.05,
        unit="%",
    )
    approval_policy_update(
        environment=envs["staging"],
        actor=people.adam,
        required_approvals=1,
        approver_roles=["approver"],
        requires_qa_signoff=True,
    )
    template_create(
        project=project, actor=people.adam, name="Payments hotfix", release_types=["hotfix"]
    )
    return project


def data_of(text: str) -> dict:
    return yaml.safe_load(text)


# The names an export gives secrets that were set in the browser, never applied from a file.
EXPORTED_SECRETS = {
    "PAYMENTS_PRODUCTION_ROLLBACK_HOOK_SECRET": SECRETS["PAYMENTS_HOOK_TOKEN"],
    "PAYMENTS_PRODUCTION_HEALTH_CHECKS_API_HEALTH_AUTHORIZATION": SECRETS["PAYMENTS_API_TOKEN"],
}

# A file as a team writes it: short, defaults left out. Line numbers matter to the tests.
TEAM_FILE = """\
version: 1
environments:
  - name: dev
    tier: development
  - name: staging
    display_name: Staging (EU)
    tier: staging
    approvals:
      required_approvals: 1
      approver_roles: [approver]
      requires_qa_signoff: true
  - name: production
    tier: production
    monitoring:
      policy:
        poll_interval: 15
        canary_percent: 10
      rollback_hook:
        url: https://deploy.example.com/rollback
        secret_env: PAYMENTS_HOOK_TOKEN
      health_checks:
        - name: API health
          url: https://payments.example.com/healthz
          headers:
            Authorization: {secret_env: PAYMENTS_API_TOKEN}
roles:
  admin: [adam]
  release_manager: [alice@example.com]
  qa: [quinn]
  approver: [ada, abe]
  auditor: [aud]
checklists:
  release_types:
    hotfix: hotfix
"""
