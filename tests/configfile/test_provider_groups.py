"""The file's provider_groups section: the identity provider's groups mapped to roles."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import GroupRoleMapping
from accounts.services import group_mapping_add
from audit.models import AuditEvent
from configfile.exceptions import ConfigInvalid
from configfile.services import config_apply, config_export, config_plan
from projects.permissions import forget_roles
from projects.services import project_create
from tests.configfile.conftest import data_of

pytestmark = pytest.mark.django_db

GROUPS_FILE = """\
version: 1
environments:
  - name: dev
    tier: development
  - name: staging
    tier: staging
  - name: production
    tier: production
provider_groups:
  qa: [qa-team]
  release_manager: [release-team, platform]
"""


def _mappings(project) -> set[tuple[str, str]]:
    return set(GroupRoleMapping.objects.filter(project=project).values_list("role", "group"))


def test_export__writes_the_mapped_groups_under_their_role(project, people):
    group_mapping_add(project=project, group="qa-team", role="qa", actor=people.adam)
    group_mapping_add(
        project=project, group="Release Team", role="release_manager", actor=people.adam
    )
    data = data_of(config_export(project=project, user=people.aud)["yaml"])
    assert data["provider_groups"] == {"release_manager": ["Release Team"], "qa": ["qa-team"]}
    assert list(data).index("provider_groups") == list(data).index("roles") + 1


def test_export_apply_round_trip__groups_included(project, people):
    group_mapping_add(project=project, group="qa-team", role="qa", actor=people.adam)
    group_mapping_add(project=project, group="admins", role="admin", actor=people.adam)
    source = config_export(project=project, user=people.adam)["yaml"]
    fresh = project_create(name="Payments EU", slug="payments-eu", admins=[people.adam])
    forget_roles(people.adam)
    plan = config_apply(project=fresh, user=people.adam, text=source)
    assert {"op": "add", "path": "provider_groups.qa", "new": "qa-team"} in plan.changes
    assert _mappings(fresh) == {("qa", "qa-team"), ("admin", "admins")}
    copy = config_export(project=fresh, user=people.adam)["yaml"]
    assert data_of(copy)["provider_groups"] == data_of(source)["provider_groups"]
    assert data_of(copy)["roles"] == data_of(source)["roles"]
    added = AuditEvent.objects.filter(action="group_mapping.added", project_id=fresh.pk)
    assert added.count() == 2


def test_apply__adds_and_removes_through_the_services__second_apply_changes_nothing(
    project, people
):
    group_mapping_add(project=project, group="old-qa", role="qa", actor=people.adam)
    plan = config_apply(project=project, user=people.adam, text=GROUPS_FILE)
    group_changes = [c for c in plan.changes if c["path"].startswith("provider_groups")]
    assert group_changes == [
        {"op": "add", "path": "provider_groups.release_manager", "new": "platform"},
        {"op": "add", "path": "provider_groups.release_manager", "new": "release-team"},
        {"op": "add", "path": "provider_groups.qa", "new": "qa-team"},
        {"op": "remove", "path": "provider_groups.qa", "old": "old-qa"},
    ]
    assert _mappings(project) == {
        ("qa", "qa-team"),
        ("release_manager", "release-team"),
        ("release_manager", "platform"),
    }
    assert (
        AuditEvent.objects.filter(action="group_mapping.removed", project_id=project.pk).count()
        == 1
    )
    assert (
        AuditEvent.objects.filter(action="group_mapping.added", project_id=project.pk).count() == 4
    )
    events = AuditEvent.objects.count()
    again = config_apply(project=project, user=people.adam, text=GROUPS_FILE)
    assert again.changes == []
    assert AuditEvent.objects.count() == events


def test_section_left_out__mappings_are_left_alone(project, people):
    group_mapping_add(project=project, group="qa-team", role="qa", actor=people.adam)
    text = GROUPS_FILE.split("provider_groups:")[0]
    plan = config_plan(project=project, user=people.adam, text=text)
    assert not [c for c in plan.changes if c["path"].startswith("provider_groups")]
    config_apply(project=project, user=people.adam, text=text)
    assert _mappings(project) == {("qa", "qa-team")}


def test_empty_section__removes_every_mapping(project, people):
    group_mapping_add(project=project, group="qa-team", role="qa", actor=people.adam)
    text = GROUPS_FILE.split("provider_groups:")[0] + "provider_groups: {}\n"
    config_apply(project=project, user=people.adam, text=text)
    assert _mappings(project) == set()


def test_plan_after_a_change_on_the_page_and_the_api__shows_exactly_that_change(
    client, project, people
):
    config_apply(project=project, user=people.adam, text=GROUPS_FILE)
    exported = config_export(project=project, user=people.adam)["yaml"]
    client.force_login(people.adam)
    page = client.post(
        f"/projects/{project.slug}/provider-groups/", {"group": "approvers", "role": "approver"}
    )
    assert page.status_code in (200, 302)
    plan = config_plan(project=project, user=people.adam, text=exported)
    assert plan.changes == [
        {"op": "remove", "path": "provider_groups.approver", "old": "approvers"}
    ]

    api = APIClient()
    api.force_login(people.adam)
    mapping = GroupRoleMapping.objects.get(project=project, group="platform")
    gone = api.delete(f"/api/v1/projects/{project.slug}/group-mappings/{mapping.pk}/")
    assert gone.status_code == 204
    plan = config_plan(project=project, user=people.adam, text=exported)
    assert plan.changes == [
        {"op": "add", "path": "provider_groups.release_manager", "new": "platform"},
        {"op": "remove", "path": "provider_groups.approver", "old": "approvers"},
    ]


BAD_GROUPS = """\
version: 1
environments:
  - name: dev
    tier: development
provider_groups:
  qa: qa-team
  tester: [testers]
  admin: [admins, "  ", admins]
  approver: [42]
"""


def test_bad_section__every_problem_with_its_line__nothing_applied(project, people):
    config_export(project=project, user=people.adam)  # shipped templates installed beforehand
    events = AuditEvent.objects.count()
    with pytest.raises(ConfigInvalid) as refused:
        config_apply(project=project, user=people.adam, text=BAD_GROUPS)
    errors = refused.value.details["errors"]
    found = {(e["line"], e["path"]): e["message"] for e in errors}
    assert found[(6, "provider_groups.qa")].startswith("Expected a list")
    assert found[(7, "provider_groups.tester")].startswith("Unknown key 'tester'.")
    assert found[(8, "provider_groups.admin[1]")] == "May not be blank."
    assert found[(8, "provider_groups.admin")] == "Lists the same entry twice."
    assert found[(9, "provider_groups.approver[0]")].startswith("Expected a text")
    assert len(errors) == 5
    assert AuditEvent.objects.count() == events
    assert _mappings(project) == set()
    assert project.environments.count() == 3
