"""Small helpers shared by the checklist tests."""

from __future__ import annotations

from django.test import Client

from releases.services import deployment_finish, release_promote

HTMX = {"HX-Request": "true"}


def small_template_create(*, project, admin):
    """The project's default template for minor releases (see tests/checklists/conftest.py)."""
    from checklists.services import (
        template_create,
        template_item_add,
        template_publish,
        template_step_add,
    )

    template = template_create(
        project=project, actor=admin, name="Small release", release_types=["minor"]
    )
    draft = template.versions.get()
    branch = template_step_add(
        version=draft,
        actor=admin,
        title="Branch ready",
        phase="before_staging",
        expected_output="A branch with a tagged candidate.",
    )
    template_item_add(step=branch, actor=admin, text="Release branch cut", role="release_manager")
    ready = template_step_add(
        version=draft, actor=admin, title="Ready for production", phase="before_production"
    )
    template_item_add(step=ready, actor=admin, text="Rollback rehearsed", role="release_manager")
    template_item_add(
        step=ready, actor=admin, text="Regression suite green", role="qa", evidence_required=True
    )
    template_item_add(
        step=ready, actor=admin, text="Dashboards open", role="engineer", required=False
    )
    template_publish(template=template, actor=admin, change_note="First version")
    template.refresh_from_db()
    return template


def deploy(release, environment, actor, *, ok: bool = True):
    deployment = release_promote(release=release, environment=environment, actor=actor)
    return deployment_finish(deployment=deployment, succeeded=ok, actor=actor)


def item_named(release, text):
    from checklists.models import Item

    return Item.objects.select_related("step", "checklist__release__project", "completed_by").get(
        checklist__release=release, text=text
    )


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client
