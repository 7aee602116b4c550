"""A change made in the browser shows up in ``plan`` as exactly that change."""

from __future__ import annotations

import pytest

from configfile.services import config_apply, config_plan
from tests.configfile.conftest import SECRETS, TEAM_FILE

pytestmark = pytest.mark.django_db


def test_policy_changed_on_the_monitoring_page__plan_shows_exactly_that(client, project, people):
    config_apply(project=project, user=people.adam, text=TEAM_FILE, secrets=SECRETS)
    client.force_login(people.adam)
    response = client.post(
        "/monitoring/projects/payments/environments/production/policy/",
        {
            "poll_interval": "15",
            "canary_percent": "20",
            "canary_minutes": "15",
            "post_deploy_minutes": "30",
            "rollback_hook_url": "https://deploy.example.com/rollback",
            "tls_min_days": "14",
            "precheck_max_age_minutes": "15",
        },
    )
    assert response.status_code == 302  # saved, back to the environment's page
    plan = config_plan(project=project, user=people.adam, text=TEAM_FILE, secrets=SECRETS)
    assert plan.changes == [
        {
            "op": "change",
            "path": "environments[production].monitoring.policy.canary_percent",
            "old": 20,
            "new": 10,
        }
    ]
