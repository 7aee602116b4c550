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

from checklists.template_services import (
    template_create,
    template_item_add,
    template_publish,
    template_step_add,
)
from releases.services import release_create


@pytest.fixture
def checklist_gates(gates_only):
    """Only the core gates and the checklist gate: other apps' rules are not under test here."""
    gates_only("checklists")


@pytest.fixture
def small_template(project, people):
    template = template_create(
        project=project, actor=people.adam, name="Small release", release_types=["minor"]
    )
    draft = template.versions.get()
    branch = template_step_add(
        version=draft,
        actor=people.adam,
        title="Branch ready",
        phase="before_staging",
        expected_output="A branch with a tagged candidate.",
    )
    template_item_add(
        step=branch, actor=people.adam, text="Release branch cut", role="release_manager"
    )
    ready = template_step_add(
        version=draft, actor=people.adam, title="Ready for production", phase="before_production"
    )
    template_item_add(
        step=ready, actor=people.adam, text="Rollback rehearsed", role="release_manager"
    )
    template_item_add(
        step=ready,
        actor=people.adam,
        text="Regression suite green",
        role="qa",
        evidence_required=True,
    )
    template_item_add(
        step=ready, actor=people.adam, text="Dashboards open", role="engineer", required=False
    )
    template_publish(template=template, actor=people.adam, change_note="First version")
    template.refresh_from_db()
    return template


@pytest.fixture
def small_release(small_template, project, people):
    return release_create(
        project=project,
        version="3.1.0",
        title="Small one",
        actor=people.alice,
        rollback_plan="Redeploy 3.0.0.",
    )
