"""Small helpers shared by the checklist tests."""

from __future__ import annotations

from django.test import Client

from releases.services import deployment_finish, release_promote

HTMX = {"HX-Request": "true"}


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
