"""Project, environment and membership services: the rules, the audit rows and bad input."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from audit.models import AuditEvent
from core.exceptions import Conflict, PermissionDenied, ValidationFailed
from projects.choices import Role, Tier
from projects.models import Environment, Membership, Project
from projects.principals import TokenPrincipal
from projects.services import (
    api_token_create,
    environment_create,
    environment_reorder,
    environment_retire,
    environment_update,
    membership_grant,
    membership_revoke,
    project_archive,
    project_create,
    project_update,
)
from releases.choices import DeploymentStatus
from releases.exceptions import GateBlocked
from releases.gates import gate_evaluate
from releases.services import deployment_finish, release_create, release_promote

FOUR = [
    {"name": "dev", "display_name": "Development", "tier": "development"},
    {"name": "qa", "display_name": "QA", "tier": "testing"},
    {"name": "staging", "display_name": "Staging", "tier": "staging"},
    {"name": "production", "display_name": "Production", "tier": "production"},
]


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_user(
        "root", "root@example.com", "pass", is_staff=True, is_superuser=True
    )


def _names(project, *, active=True):
    qs = Environment.objects.filter(project=project).order_by("order")
    if active:
        qs = qs.filter(retired_at__isnull=True)
    return list(qs.values_list("name", flat=True))


def _deploy(release, env, actor):
    deployment = release_promote(release=release, environment=env, actor=actor)
    return deployment_finish(deployment=deployment, succeeded=True, actor=actor)


# --- projects ---------------------------------------------------------------------


def test_project_create__defaults__three_environments_creator_is_admin_and_audited(staff):
    project = project_create(name="Billing", actor=staff)
    assert project.slug == "billing"
    assert _names(project) == ["dev", "staging", "production"]
    assert Membership.objects.filter(project=project, user=staff, role=Role.ADMIN).exists()
    created = AuditEvent.objects.get(action="project.created")
    assert created.to_state == "active"
    assert [e["name"] for e in created.data["environments"]] == ["dev", "staging", "production"]
    granted = AuditEvent.objects.get(action="membership.granted")
    assert granted.data == {"user": "root", "role": "admin"}


def test_project_create__custom_four_environments__in_that_order_with_tiers(staff):
    project = project_create(name="Billing", slug="bill", actor=staff, environments=FOUR)
    envs = list(project.environments.order_by("order"))
    assert [(e.name, e.tier, e.order) for e in envs] == [
        ("dev", Tier.DEVELOPMENT, 1),
        ("qa", Tier.TESTING, 2),
        ("staging", Tier.STAGING, 3),
        ("production", Tier.PRODUCTION, 4),
    ]


def test_project_create__duplicate_slug__refused_and_nothing_created(staff, project):
    before = AuditEvent.objects.count()
    with pytest.raises(ValidationFailed, match="slug 'payments' already exists"):
        project_create(name="Payments again", slug="payments", actor=staff)
    assert Project.objects.filter(name="Payments again").count() == 0
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize(
    ("environments", "message"),
    [
        ([{"name": "dev", "tier": "development"}, {"name": "dev", "tier": "staging"}], "twice"),
        ([{"name": "dev", "tier": "moon"}], "Unknown tier 'moon'"),
        ([{"name": "Dev Box!", "tier": "development"}], "lower-case letters"),
        ([{"name": "dev", "tier": "development", "colour": "red"}], "unknown keys: colour"),
        ([], "at least one environment"),
        ("dev,prod", "must be a list"),
        (["dev"], "must be an object"),
    ],
)
def test_project_create__bad_environment_list__refused_and_nothing_created(
    staff, environments, message
):
    with pytest.raises(ValidationFailed, match=message):
        project_create(name="Billing", actor=staff, environments=environments)
    assert not Project.objects.filter(slug="billing").exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("name", "slug", "message"),
    [
        ("", None, "Name is required"),
        ("x" * 121, None, "longer than 120"),
        ("Ok", "Bad Slug", "lower-case letters"),
    ],
)
def test_project_create__bad_name_or_slug__refused(staff, name, slug, message):
    with pytest.raises(ValidationFailed, match=message):
        project_create(name=name, slug=slug, actor=staff)
    assert not Project.objects.exists()


def test_project_create__non_staff_person_or_token__refused(people, project):
    with pytest.raises(PermissionDenied, match="staff administrator"):
        project_create(name="Mine", actor=people.adam)
    token, _ = api_token_create(project=project, name="ci", scopes=["read"], actor=people.adam)
    with pytest.raises(PermissionDenied):
        project_create(name="Mine", actor=TokenPrincipal(token))
    assert not Project.objects.filter(slug="mine").exists()


def test_project_update__records_old_and_new_values(people, project):
    project_update(project=project, actor=people.adam, name="Payments EU", description="Cards")
    project.refresh_from_db()
    assert project.name == "Payments EU"
    event = AuditEvent.objects.get(action="project.updated")
    assert event.from_state == "Payments" and event.to_state == "Payments EU"
    assert event.data["changes"]["description"] == ["", "Cards"]


def test_project_update__nothing_changed__writes_no_event(people, project):
    project_update(project=project, actor=people.adam, name="Payments")
    assert not AuditEvent.objects.filter(action="project.updated").exists()


def test_project_update__engineer_refused_staff_allowed(people, project, staff):
    with pytest.raises(PermissionDenied):
        project_update(project=project, actor=people.bob, name="Nope")
    project_update(project=project, actor=staff, name="By staff")
    project.refresh_from_db()
    assert project.name == "By staff"


def test_project_archive__refuses_new_releases_and_promotions_keeps_history(
    people, project, release, envs, gates_only
):
    gates_only("releases")
    project_archive(project=project, actor=people.adam, reason="Service decommissioned")
    project.refresh_from_db()
    assert project.is_archived
    event = AuditEvent.objects.get(action="project.archived")
    assert (event.from_state, event.to_state, event.reason) == (
        "active",
        "archived",
        "Service decommissioned",
    )
    with pytest.raises(Exception, match="archived: it takes no new releases"):
        release_create(project=project, version="9.0.0", title="t", actor=people.alice)
    with pytest.raises(GateBlocked) as blocked:
        release_promote(release=release, environment=envs["dev"], actor=people.alice)
    assert "archived" in str(blocked.value.report.as_list())
    assert project.releases.filter(pk=release.pk).exists()
    with pytest.raises(Conflict, match="already archived"):
        project_archive(project=project, actor=people.adam)


# --- environments -------------------------------------------------------------------


def test_environment_create__at_position_two__audited_with_orders(people, project):
    env = environment_create(
        project=project, name="qa", tier="testing", actor=people.adam, display_name="QA", position=2
    )
    assert _names(project) == ["dev", "qa", "staging", "production"]
    assert env.order == 2 and env.display_name == "QA"
    event = AuditEvent.objects.get(action="environment.created")
    assert event.data["order_before"] == ["dev", "staging", "production"]
    assert event.data["order_after"] == ["dev", "qa", "staging", "production"]


def test_environment_create__default_position_is_last(people, project):
    environment_create(project=project, name="prod-eu", tier="production", actor=people.adam)
    assert _names(project)[-1] == "prod-eu"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "staging", "tier": "staging"}, "already has an environment named 'staging'"),
        ({"name": "qa", "tier": "nope"}, "Unknown tier 'nope'"),
        ({"name": "qa", "tier": "testing", "position": 9}, "between 1 and 4"),
        ({"name": "qa", "tier": "testing", "position": 0}, "between 1 and 4"),
        ({"name": "", "tier": "testing"}, "required"),
    ],
)
def test_environment_create__bad_input__refused_nothing_changed(people, project, kwargs, message):
    with pytest.raises(ValidationFailed, match=message):
        environment_create(project=project, actor=people.adam, **kwargs)
    assert _names(project) == ["dev", "staging", "production"]
    assert not AuditEvent.objects.exists()


def test_environment_create__release_manager_refused(people, project):
    with pytest.raises(PermissionDenied, match="project admin"):
        environment_create(project=project, name="qa", tier="testing", actor=people.alice)


def test_environment_update__rename_and_tier_change_audited(people, project, envs):
    environment_update(
        environment=envs["staging"], actor=people.adam, display_name="Pre-prod", tier="testing"
    )
    envs["staging"].refresh_from_db()
    assert (envs["staging"].display_name, envs["staging"].tier) == ("Pre-prod", "testing")
    event = AuditEvent.objects.get(action="environment.updated")
    assert (event.from_state, event.to_state) == ("staging", "testing")
    assert event.data["changes"]["display_name"] == ["Staging", "Pre-prod"]


def test_environment_update__bad_tier__refused(people, envs):
    with pytest.raises(ValidationFailed, match="Unknown tier"):
        environment_update(environment=envs["dev"], actor=people.adam, tier="prod")
    envs["dev"].refresh_from_db()
    assert envs["dev"].tier == "development"


def test_environment_reorder__two_phase_keeps_unique_order_and_audits(people, project):
    environment_reorder(project=project, names=["staging", "dev", "production"], actor=people.adam)
    assert _names(project) == ["staging", "dev", "production"]
    assert list(project.environments.order_by("order").values_list("order", flat=True)) == [1, 2, 3]
    event = AuditEvent.objects.get(action="environment.reordered")
    assert event.from_state == "dev → staging → production"
    assert event.to_state == "staging → dev → production"


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["dev", "production"], "Missing: staging"),
        (["dev", "dev", "staging", "production"], "Named more than once: dev"),
        (["dev", "staging", "production", "moon"], "Not environments of this project: moon"),
        ("dev", "must be a list"),
        ([1, 2, 3], "must be a list"),
    ],
)
def test_environment_reorder__not_a_permutation__refused_nothing_changed(
    people, project, names, message
):
    with pytest.raises(ValidationFailed, match=message):
        environment_reorder(project=project, names=names, actor=people.adam)
    assert _names(project) == ["dev", "staging", "production"]
    assert not AuditEvent.objects.exists()


def test_environment_retire__leaves_order_keeps_row_and_audits(people, project, envs):
    environment_retire(environment=envs["staging"], actor=people.adam, reason="Merged into qa")
    assert _names(project) == ["dev", "production"]
    assert _names(project, active=False) == ["dev", "staging", "production"]
    event = AuditEvent.objects.get(action="environment.retired")
    assert (event.from_state, event.to_state, event.reason) == (
        "active",
        "retired",
        "Merged into qa",
    )
    with pytest.raises(ValidationFailed, match="Retired, so not in the promotion order: staging"):
        environment_reorder(
            project=project, names=["dev", "staging", "production"], actor=people.adam
        )
    with pytest.raises(Conflict, match="already retired"):
        environment_retire(environment=envs["staging"], actor=people.adam)
    with pytest.raises(ValidationFailed, match="retired one keeps its name"):
        environment_create(project=project, name="staging", tier="staging", actor=people.adam)


def test_environment_retire__running_deployment__refused(people, release, envs, gates_only):
    gates_only("releases")
    deployment = release_promote(release=release, environment=envs["dev"], actor=people.alice)
    assert deployment.status == DeploymentStatus.IN_PROGRESS
    with pytest.raises(Conflict, match="in progress in Development; finish it"):
        environment_retire(environment=envs["dev"], actor=people.adam)
    envs["dev"].refresh_from_db()
    assert envs["dev"].retired_at is None


def test_environment_retire__last_active_environment__refused(people, project, envs):
    environment_retire(environment=envs["dev"], actor=people.adam)
    environment_retire(environment=envs["staging"], actor=people.adam)
    with pytest.raises(Conflict, match="only active environment"):
        environment_retire(environment=envs["production"], actor=people.adam)


def test_environment_changes__archived_project__refused(people, project, envs):
    project_archive(project=project, actor=people.adam)
    with pytest.raises(Conflict, match="archived"):
        environment_create(project=project, name="qa", tier="testing", actor=people.adam)
    with pytest.raises(Conflict, match="archived"):
        environment_retire(environment=envs["dev"], actor=people.adam)


# --- the promotion order follows the list ---------------------------------------------


def test_promotion__custom_four_environments__follows_dev_qa_staging_production(
    staff, people, gates_only
):
    gates_only("releases")
    project = project_create(name="Ledger", actor=staff, environments=FOUR)
    membership_grant(project=project, user=people.alice, role=Role.RELEASE_MANAGER, actor=staff)
    release = release_create(
        project=project, version="1.0.0", title="First", actor=people.alice, rollback_plan="Undo."
    )
    envs = {e.name: e for e in project.environments.all()}
    _deploy(release, envs["dev"], people.alice)
    with pytest.raises(GateBlocked, match="Not yet deployed successfully to QA"):
        release_promote(release=release, environment=envs["staging"], actor=people.alice)
    _deploy(release, envs["qa"], people.alice)
    report = gate_evaluate(release=release, environment=envs["staging"])
    assert report.is_open
    _deploy(release, envs["staging"], people.alice)
    _deploy(release, envs["production"], people.alice)
    assert list(
        release.deployments.order_by("created_at", "id").values_list("environment__name", flat=True)
    ) == ["dev", "qa", "staging", "production"]


def test_promotion__after_reorder__follows_the_new_order(
    people, release, project, envs, gates_only
):
    gates_only("releases")
    environment_create(project=project, name="qa", tier="testing", actor=people.adam, position=3)
    qa = Environment.objects.get(project=project, name="qa")
    _deploy(release, envs["dev"], people.alice)
    _deploy(release, envs["staging"], people.alice)
    with pytest.raises(GateBlocked, match="Not yet deployed successfully to Qa"):
        release_promote(release=release, environment=envs["production"], actor=people.alice)
    _deploy(release, qa, people.alice)
    _deploy(release, envs["production"], people.alice)


def test_promotion__retired_environment__skipped_and_refused(
    people, release, project, envs, gates_only
):
    gates_only("releases")
    _deploy(release, envs["dev"], people.alice)
    environment_retire(environment=envs["staging"], actor=people.adam, reason="No longer used")
    report = gate_evaluate(release=release, environment=envs["production"])
    order = next(g for g in report.gates if g.code == "order")
    assert order.is_open and "Development" in order.reason
    with pytest.raises(GateBlocked, match="retired"):
        release_promote(release=release, environment=envs["staging"], actor=people.alice)
    _deploy(release, envs["production"], people.alice)
    # The retired environment's past deployments stay.
    assert envs["staging"].deployments.count() == 0
    assert Environment.objects.filter(pk=envs["staging"].pk).exists()


# --- memberships ------------------------------------------------------------------


def test_membership_grant__audited_with_reason_and_idempotent(people, project):
    newcomer = get_user_model().objects.create_user("nina", "nina@example.com", "pass")
    membership_grant(
        project=project, user=newcomer, role=Role.QA, actor=people.adam, reason="Joins QA"
    )
    membership_grant(project=project, user=newcomer, role=Role.QA, actor=people.adam)
    event = AuditEvent.objects.get(action="membership.granted")
    assert (event.actor_label, event.to_state, event.reason) == ("adam", "qa", "Joins QA")
    assert event.data["user"] == "nina"


def test_membership_revoke__audited_with_reason(people, project):
    membership_revoke(
        project=project, user=people.quinn, role=Role.QA, actor=people.adam, reason="Left the team"
    )
    assert not Membership.objects.filter(user=people.quinn, project=project).exists()
    event = AuditEvent.objects.get(action="membership.revoked")
    assert (event.from_state, event.reason, event.data["user"]) == ("qa", "Left the team", "quinn")


def test_membership__bad_role_outsider_and_last_admin__refused(people, project):
    with pytest.raises(ValidationFailed, match="Unknown role 'boss'"):
        membership_grant(project=project, user=people.bob, role="boss", actor=people.adam)
    with pytest.raises(PermissionDenied):
        membership_grant(project=project, user=people.bob, role=Role.QA, actor=people.olga)
    with pytest.raises(PermissionDenied):
        membership_grant(project=project, user=people.bob, role=Role.QA, actor=people.aud)
    with pytest.raises(Conflict, match="last project admin"):
        membership_revoke(project=project, user=people.adam, role=Role.ADMIN, actor=people.adam)
    assert Membership.objects.filter(user=people.adam, role=Role.ADMIN).exists()
    assert not AuditEvent.objects.exists()


def test_membership__deactivated_person__cannot_be_given_a_role(people, project):
    people.bob.is_active = False
    people.bob.save()
    with pytest.raises(ValidationFailed, match="deactivated"):
        membership_grant(project=project, user=people.bob, role=Role.QA, actor=people.adam)


def test_membership__staff_manages_any_project(staff, people, project):
    membership_grant(project=project, user=people.bob, role=Role.QA, actor=staff)
    assert Membership.objects.filter(user=people.bob, role=Role.QA).exists()
