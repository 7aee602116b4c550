"""Who may feed pipeline data into Shipcheck.

Token scopes are checked here with messages that name the missing scope, so
a pipeline author knows which box to tick when creating the token.
"""

from __future__ import annotations

from core.exceptions import RoleNotHeld
from projects.choices import Role, TokenScope
from projects.permissions import has_role, role_refusal
from projects.principals import is_token


def test_results_refusal() -> RoleNotHeld:
    return role_refusal(
        Role.QA,
        Role.ENGINEER,
        Role.RELEASE_MANAGER,
        Role.ADMIN,
        to="record test results for this release",
        token_scope=TokenScope.TEST_RESULTS,
    )


def can_record_test_results(user, release) -> bool:
    """QA, engineers, release managers, admins, and tokens with the test_results scope."""
    if is_token(user):
        return user.api_token.project_id == release.project_id and user.has_scope(
            TokenScope.TEST_RESULTS
        )
    return has_role(
        user, release.project_id, Role.QA, Role.ENGINEER, Role.RELEASE_MANAGER, Role.ADMIN
    )
