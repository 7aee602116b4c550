"""Issue 12, item 7: one helper writes every app's role refusal, with one code."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from core.exceptions import RoleNotHeld
from projects.choices import Role
from projects.permissions import a_or_an, role_refusal


def test_role_refusal__articles_and_list():
    refusal = role_refusal(
        Role.RELEASE_MANAGER, Role.ENGINEER, Role.ADMIN, to="deploy this release"
    )
    assert isinstance(refusal, RoleNotHeld)
    assert refusal.code == "role_not_held"
    assert refusal.status == 403
    assert refusal.message == (
        "Only a release manager, an engineer or a project admin may deploy this release."
    )
    assert refusal.details == {"roles": ["release_manager", "engineer", "admin"]}


def test_role_refusal__one_role_takes_its_own_article():
    assert role_refusal(Role.ENGINEER, to="tick 'Smoke test'").message == (
        "Only an engineer may tick 'Smoke test'."
    )
    assert role_refusal(Role.APPROVER, Role.EMERGENCY_APPROVER, to="approve").message == (
        "Only an approver or an emergency approver may approve."
    )


def test_role_refusal__the_releases_own_manager_is_named_once():
    assert role_refusal(
        Role.QA, to="tick 'Regression green'", release_manager_of_release=True
    ).message == ("Only a QA engineer or the release's manager may tick 'Regression green'.")
    # Release managers named already: no "a release manager ... or the release manager".
    assert role_refusal(
        Role.RELEASE_MANAGER, to="tick 'Branch cut'", release_manager_of_release=True
    ).message == ("Only a release manager may tick 'Branch cut'.")


def test_role_refusal__token_scope_is_named():
    refusal = role_refusal(Role.ADMIN, to="create API tokens", token_scope="releases")
    assert refusal.message == (
        "Only a project admin may create API tokens (an API token needs the 'releases' scope)."
    )


def test_a_or_an():
    assert a_or_an("engineer") == "an engineer"
    assert a_or_an("QA sign-off") == "a QA sign-off"
    assert a_or_an("emergency approval") == "an emergency approval"


def _as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


@pytest.mark.parametrize(
    ("method", "path", "body", "message"),
    [
        (
            "patch",
            "/api/v1/releases/{release}/",
            {"title": "x"},
            "Only a release manager or a project admin may edit this release "
            "(an API token needs the 'releases' scope).",
        ),
        (
            "post",
            "/api/v1/release-approvals/{release}/approve/",
            {"kind": "scope"},
            "Only a product owner may give a scope approval.",
        ),
        (
            "post",
            "/api/v1/release-approvals/{release}/approve/",
            {"kind": "qa_signoff", "environment": "staging"},
            "Only a QA engineer may give a QA sign-off.",
        ),
    ],
)
def test_other_apps__same_code_and_grammar(people, release, method, path, body, message):
    response = getattr(_as(people.bob), method)(
        path.format(release=release.pk), body, format="json"
    )
    assert response.status_code == 403, response.json()
    assert response.json()["error"] == "role_not_held"
    assert response.json()["message"] == message


def test_project_admin_refusal__role_not_held(people, project):
    from core.exceptions import RoleNotHeld as Refusal
    from projects.services import api_token_create

    with pytest.raises(Refusal) as exc:
        api_token_create(project=project, name="ci", scopes=["read"], actor=people.bob)
    assert exc.value.message == "Only a project admin may create API tokens."
