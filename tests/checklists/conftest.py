"""Checklist fixtures: a small project template, and helpers to reach an environment.

``small_template`` is the project's default for minor releases, so a release
created after it (``small_release``) starts from it:

    1. Branch ready (before staging):         "Release branch cut" (release manager)
    2. Ready for production (before production):
         "Rollback rehearsed" (release manager)
         "Regression suite green" (QA, needs evidence)
         "Dashboards open" (engineer, optional)
"""

from __future__ import annotations

import pytest

from releases.services import release_create
from tests.checklists.helpers import small_template_create


@pytest.fixture
def checklist_gates(gates_only):
    """Only the core gates and the checklist gate: other apps' rules are not under test here."""
    gates_only("checklists")


@pytest.fixture
def small_template(project, people):
    return small_template_create(project=project, admin=people.adam)


@pytest.fixture
def small_release(small_template, project, people):
    return release_create(
        project=project,
        version="3.1.0",
        title="Small one",
        actor=people.alice,
        rollback_plan="Redeploy 3.0.0.",
    )
