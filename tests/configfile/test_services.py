"""Export, plan and apply through the services: round trips, idempotency, change sets, stale plans."""

from __future__ import annotations

import hashlib

import pytest

from approvals.models import ApprovalPolicy
from audit.models import AuditEvent
from checklists.services import template_create
from configfile.exceptions import ConfigInvalid, StalePlan
from configfile.services import config_apply, config_export, config_plan
from core.exceptions import NotFound, PermissionDenied
from monitoring.models import EnvironmentPolicy, HealthCheck, MetricCheck
from monitoring.services.config import policy_update
from projects.choices import Role
from projects.models import Environment, Membership
from projects.permissions import forget_roles
from projects.services import membership_grant, project_create
from tests.configfile.conftest import EXPORTED_SECRETS, SECRETS, TEAM_FILE, data_of

pytestmark = pytest.mark.django_db


def _export(project, user) -> dict:
    return config_export(project=project, user=user)


def test_export__writes_the_whole_configuration_without_secret_values(configured, people):
    export = _export(configured, people.aud)  # an auditor reads everything
    text = export["yaml"]
    data = data_of(text)
    assert [e["name"] for e in data["environments"]] == ["dev", "staging", "production"]
    production = data["environments"][2]
    assert production["tier"] == "production"
    assert production["monitoring"]["policy"]["canary_percent"] == 10
    assert production["monitoring"]["rollback_hook"] == {
        "url": "https://deploy.example.com/rollback",
        "secret_env": "PAYMENTS_PRODUCTION_ROLLBACK_HOOK_SECRET",
    }
    (health,) = production["monitoring"]["health_checks"]
    assert health["headers"] == {
        "Authorization": {
            "secret_env": "PAYMENTS_PRODUCTION_HEALTH_CHECKS_API_HEALTH_AUTHORIZATION"
        }
    }
    assert production["monitoring"]["metric_checks"][0]["max_value"] == 0.05
    assert data["environments"][1]["approvals"]["required_approvals"] == 1
    assert data["roles"]["admin"] == ["adam@example.com"]
    assert data["roles"]["approver"] == ["abe@example.com", "ada@example.com", "emma@example.com"]
    assert data["checklists"]["release_types"]["hotfix"] == "payments-hotfix"
    assert data["checklists"]["release_types"]["major"] == "release-procedure"
    for secret in SECRETS.values():
        assert secret not in text
    assert export["sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert "schema.json" in text.splitlines()[0]


def test_export__applied_onto_a_fresh_project__gives_an_identical_export(configured, people):
    source = _export(configured, people.adam)
    fresh = project_create(name="Payments EU", slug="payments-eu", admins=[people.adam])
    forget_roles(people.adam)  # the roles cached for this request predate the new project
    # The fresh project needs the template the file chooses for hotfixes.
    template_create(project=fresh, actor=people.adam, name="Payments hotfix")
    plan = config_apply(
        project=fresh, user=people.adam, text=source["yaml"], secrets=EXPORTED_SECRETS
    )
    assert plan.changes
    fresh.refresh_from_db()
    copy = _export(fresh, people.adam)
    assert data_of(copy["yaml"]) == data_of(source["yaml"])
    production = fresh.environments.get(name="production")
    assert EnvironmentPolicy.objects.get(environment=production).rollback_hook_secret == (
        "hook-secret-1"
    )
    assert HealthCheck.objects.get(environment=production).headers == {
        "Authorization": "api-secret-1"
    }


def test_apply_twice__second_time_reports_no_change(project, people):
    first = config_apply(project=project, user=people.adam, text=TEAM_FILE, secrets=SECRETS)
    assert first.changes
    events = AuditEvent.objects.count()
    second = config_apply(project=project, user=people.adam, text=TEAM_FILE, secrets=SECRETS)
    assert second.changes == []
    assert AuditEvent.objects.count() == events  # nothing written, not even config.applied
    assert (
        config_plan(project=project, user=people.adam, text=TEAM_FILE, secrets=SECRETS).changes
        == []
    )


def test_apply__is_one_change_set_audited_with_the_files_hash(project, people):
    plan = config_apply(project=project, user=people.adam, text=TEAM_FILE, secrets=SECRETS)
    event = AuditEvent.objects.get(action="config.applied")
    assert event.actor_id == people.adam.pk
    assert event.data["sha256"] == hashlib.sha256(TEAM_FILE.encode()).hexdigest()
    assert event.data["changes"] == plan.changes
    paths = {c["path"] for c in plan.changes}
    assert "environments[staging].display_name" in paths
    assert "environments[production].monitoring.rollback_hook" in paths
    assert "environments[production].monitoring.health_checks[API health]" in paths
    # The services wrote their own events in the same change set.
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "monitoring.policy_updated",
        "monitoring.check_created",
        "approval_policy.updated",
        "membership.revoked",
    } <= actions
    # Who the file leaves out loses their role; who it names keeps it.
    assert not Membership.objects.filter(project=project, user=people.bob).exists()
    assert Membership.objects.filter(project=project, user=people.quinn, role=Role.QA).exists()
    for secret in SECRETS.values():
        assert not AuditEvent.objects.filter(data__icontains=secret).exists()
    # The file's names for the secrets come back in the export.
    data = data_of(_export(project, people.adam)["yaml"])
    production = data["environments"][2]
    assert production["monitoring"]["rollback_hook"]["secret_env"] == "PAYMENTS_HOOK_TOKEN"
    assert production["monitoring"]["health_checks"][0]["headers"]["Authorization"] == {
        "secret_env": "PAYMENTS_API_TOKEN"
    }


def test_plan__after_a_change_in_the_browser__shows_exactly_that_change(project, people, envs):
    config_apply(project=project, user=people.adam, text=TEAM_FILE, secrets=SECRETS)
    policy_update(environment=envs["production"], actor=people.adam, canary_percent=25)
    plan = config_plan(project=project, user=people.adam, text=TEAM_FILE, secrets=SECRETS)
    assert plan.changes == [
        {
            "op": "change",
            "path": "environments[production].monitoring.policy.canary_percent",
            "old": 25,
            "new": 10,
        }
    ]


def test_plan__a_role_given_in_the_browser__shows_its_removal(project, people):
    config_apply(project=project, user=people.adam, text=TEAM_FILE, secrets=SECRETS)
    membership_grant(project=project, user=people.pat, role=Role.PRODUCT_OWNER, actor=people.adam)
    plan = config_plan(project=project, user=people.adam, text=TEAM_FILE, secrets=SECRETS)
    assert plan.changes == [
        {"op": "remove", "path": "roles.product_owner", "old": "pat@example.com"}
    ]


def test_plan__a_secret_changed_elsewhere__is_a_change_without_its_value(project, people, envs):
    config_apply(project=project, user=people.adam, text=TEAM_FILE, secrets=SECRETS)
    policy_update(environment=envs["production"], actor=people.adam, rollback_hook_secret="other")
    plan = config_plan(project=project, user=people.adam, text=TEAM_FILE, secrets=SECRETS)
    assert plan.changes == [
        {
            "op": "change",
            "path": "environments[production].monitoring.rollback_hook.secret",
            "old": "(secret)",
            "new": "(a new secret value)",
        }
    ]
    assert "other" not in str(plan.changes)


def test_plan__changes_nothing(project, people):
    _export(project, people.adam)  # installs the shipped checklist templates, once
    events = AuditEvent.objects.count()
    plan = config_plan(project=project, user=people.adam, text=TEAM_FILE, secrets=SECRETS)
    assert plan.changes
    assert AuditEvent.objects.count() == events
    assert not HealthCheck.objects.exists()
    assert Membership.objects.filter(project=project, user=people.bob).exists()


def test_apply__stale_plan__is_refused_with_409_and_applies_nothing(project, people, envs):
    plan = config_plan(project=project, user=people.adam, text=TEAM_FILE, secrets=SECRETS)
    policy_update(environment=envs["production"], actor=people.adam, canary_percent=30)
    with pytest.raises(StalePlan) as refused:
        config_apply(
            project=project,
            user=people.adam,
            text=TEAM_FILE,
            secrets=SECRETS,
            expect=plan.fingerprint,
        )
    assert refused.value.status == 409
    assert "changed since this plan" in refused.value.message
    assert not HealthCheck.objects.exists()
    assert not AuditEvent.objects.filter(action="config.applied").exists()


def test_apply__with_the_plans_fingerprint__applies(project, people):
    plan = config_plan(project=project, user=people.adam, text=TEAM_FILE, secrets=SECRETS)
    applied = config_apply(
        project=project, user=people.adam, text=TEAM_FILE, secrets=SECRETS, expect=plan.fingerprint
    )
    assert applied.changes == plan.changes


def test_apply__a_check_the_monitoring_rules_refuse__applies_nothing_and_names_the_line(
    project, people
):
    # The metric check has no bound: the monitoring rules refuse it; the roles change before
    # it in the file must not be applied either.
    text = TEAM_FILE.replace(
        "roles:\n",
        "      metric_checks:\n"
        "        - name: Latency\n"
        "          url: https://prometheus.example.com\n"
        "          query: histogram_quantile(0.95, x)\n"
        "roles:\n",
    )
    with pytest.raises(ConfigInvalid) as refused:
        config_apply(project=project, user=people.adam, text=text, secrets=SECRETS)
    (error,) = refused.value.details["errors"]
    assert error["line"] == 27
    assert "at least one bound" in error["message"]
    assert Membership.objects.filter(project=project, user=people.bob).exists()
    assert not HealthCheck.objects.exists() and not MetricCheck.objects.exists()


def test_apply__missing_secret_variable__is_named_with_its_line(project, people):
    with pytest.raises(ConfigInvalid) as refused:
        config_apply(
            project=project,
            user=people.adam,
            text=TEAM_FILE,
            secrets={"PAYMENTS_HOOK_TOKEN": "x"},
        )
    (error,) = refused.value.details["errors"]
    assert error["line"] == 25
    assert "PAYMENTS_API_TOKEN" in error["message"]
    assert not HealthCheck.objects.exists()


def test_apply__leaving_no_admin__is_refused(project, people):
    text = TEAM_FILE.replace("  admin: [adam]\n", "")
    with pytest.raises(ConfigInvalid) as refused:
        config_apply(project=project, user=people.adam, text=text, secrets=SECRETS)
    assert "at least one project admin" in refused.value.message


def test_sections_left_out__are_left_as_they_are(project, people, envs):
    approval_policy_update_args = {"required_approvals": 3, "approver_roles": ["approver"]}
    from approvals.services import approval_policy_update

    approval_policy_update(
        environment=envs["production"], actor=people.adam, **approval_policy_update_args
    )
    text = "version: 1\nenvironments:\n  - {name: dev, tier: development}\n  - {name: staging, tier: staging}\n  - {name: production, tier: production}\n"
    plan = config_plan(project=project, user=people.adam, text=text)
    assert plan.changes == []
    assert ApprovalPolicy.objects.get(environment=envs["production"]).required_approvals == 3


def test_who_may__auditor_reads_but_may_not_plan_or_apply__outsider_sees_nothing(
    configured, people
):
    assert _export(configured, people.aud)["yaml"]
    with pytest.raises(PermissionDenied):
        config_plan(project=configured, user=people.aud, text=TEAM_FILE, secrets=SECRETS)
    with pytest.raises(PermissionDenied):
        config_apply(project=configured, user=people.alice, text=TEAM_FILE, secrets=SECRETS)
    for call in (
        lambda: _export(configured, people.olga),
        lambda: config_plan(project=configured, user=people.olga, text=TEAM_FILE),
        lambda: config_apply(project=configured, user=people.olga, text=TEAM_FILE),
    ):
        with pytest.raises(NotFound):
            call()
    assert not AuditEvent.objects.filter(action="config.applied").exists()


FOUR_ENVIRONMENTS = """\
version: 1
environments:
  - {name: dev, tier: development}
  - name: qa
    display_name: QA
    tier: testing
    approvals: {required_approvals: 0}
  - {name: staging, tier: staging}
  - name: production
    tier: production
"""


def test_apply__adds_an_environment_in_its_place__and_retires_one_left_out(project, people):
    plan = config_apply(project=project, user=people.adam, text=FOUR_ENVIRONMENTS)
    assert {k: v for k, v in plan.changes[0].items() if k != "new"} == {
        "op": "add",
        "path": "environments[qa]",
    }
    assert plan.changes[0]["new"]["tier"] == "testing"
    active = Environment.objects.filter(project=project, retired_at__isnull=True).order_by("order")
    assert [(e.name, e.tier, e.display_name) for e in active] == [
        ("dev", "development", "Development"),
        ("qa", "testing", "QA"),
        ("staging", "staging", "Staging"),
        ("production", "production", "Production"),
    ]
    assert config_plan(project=project, user=people.adam, text=FOUR_ENVIRONMENTS).changes == []

    without_staging = FOUR_ENVIRONMENTS.replace("  - {name: staging, tier: staging}\n", "")
    plan = config_apply(project=project, user=people.adam, text=without_staging)
    assert plan.changes == [
        {"op": "remove", "path": "environments[staging]", "old": {"tier": "staging"}}
    ]
    staging = Environment.objects.get(project=project, name="staging")
    assert staging.retired_at is not None  # retired, with its history, not deleted
    assert [e["name"] for e in data_of(_export(project, people.adam)["yaml"])["environments"]] == [
        "dev",
        "qa",
        "production",
    ]
    # A retired environment's name cannot come back.
    with pytest.raises(ConfigInvalid) as refused:
        config_plan(project=project, user=people.adam, text=FOUR_ENVIRONMENTS)
    assert refused.value.details["errors"][0]["line"] == 8
    assert "retired environment" in refused.value.details["errors"][0]["message"]


def test_apply__reorders_environments(project, people):
    text = (
        "version: 1\nenvironments:\n  - {name: staging, tier: staging}\n"
        "  - {name: dev, tier: development}\n  - {name: production, tier: production}\n"
    )
    plan = config_apply(project=project, user=people.adam, text=text)
    assert plan.changes == [
        {
            "op": "change",
            "path": "environments (order)",
            "old": ["dev", "staging", "production"],
            "new": ["staging", "dev", "production"],
        }
    ]
    names = Environment.objects.filter(project=project).order_by("order")
    assert [e.name for e in names] == ["staging", "dev", "production"]
    assert AuditEvent.objects.filter(action="environment.reordered").count() == 1


def test_apply__retiring_an_environment_with_a_running_deployment__applies_nothing(
    project, people, envs
):
    from tests.factories import DeploymentFactory, ReleaseFactory

    release = ReleaseFactory(project=project)
    DeploymentFactory(release=release, environment=envs["staging"], status="in_progress")
    text = (
        "version: 1\nenvironments:\n  - {name: dev, tier: development}\n"
        "  - {name: production, tier: production}\nroles:\n  admin: [adam]\n"
    )
    with pytest.raises(ConfigInvalid) as refused:
        config_apply(project=project, user=people.adam, text=text)
    assert "finish it before retiring" in refused.value.message
    assert Environment.objects.get(pk=envs["staging"].pk).retired_at is None
    assert Membership.objects.filter(project=project, user=people.bob).exists()


def test_the_documented_example__applies_and_then_reports_no_change(project, people):
    """docs/config-as-code.md's complete example, applied as written."""
    import re

    from django.conf import settings

    from tests.factories import UserFactory

    docs = (settings.BASE_DIR / "docs" / "config-as-code.md").read_text()
    text = re.search(r"```yaml\n(# yaml-language-server.*?)```", docs, re.S).group(1)
    for name in ("adele", "rita", "eli", "paula", "adrian", "ana", "cora", "audrey"):
        UserFactory(username=name, email=f"{name}@example.com")
    membership_grant(project=project, user=people.quinn, role=Role.QA, actor=None)
    template_create(project=project, actor=people.adam, name="Payments hotfix")
    secrets = {"PAYMENTS_HOOK_TOKEN": "h", "PAYMENTS_API_TOKEN": "a"}
    # adam applies it and, as the file says, is no longer an admin afterwards.
    plan = config_apply(project=project, user=people.adam, text=text, secrets=secrets)
    assert {"op": "add", "path": "roles.admin", "new": "adele@example.com"} in plan.changes
    active = Environment.objects.filter(project=project, retired_at__isnull=True)
    assert [e.name for e in active.order_by("order")] == ["dev", "qa", "staging", "production"]
    adele = Membership.objects.get(project=project, role=Role.ADMIN).user
    assert config_plan(project=project, user=adele, text=text, secrets=secrets).changes == []
