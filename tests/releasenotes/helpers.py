"""Commits, tickets and deployments for release-notes tests, through the releases services."""

from __future__ import annotations

import hashlib
import itertools
from datetime import timedelta

from django.utils import timezone

from releases.services import (
    deployment_finish,
    release_commits_add,
    release_create,
    release_promote,
    release_tickets_add,
)

_counter = itertools.count()


def add_commits(release, actor, *messages: str) -> list[str]:
    """Attach ``messages`` oldest first; returns their shas (git log order is newest first)."""
    base = timezone.now() - timedelta(days=1)
    shas = []
    items = []
    for message in messages:
        sha = hashlib.sha1(
            f"{next(_counter)}:{message}".encode(), usedforsecurity=False
        ).hexdigest()
        shas.append(sha)
        items.append(
            {
                "sha": sha,
                "message": message,
                "author": "Eli",
                "committed_at": base + timedelta(minutes=next(_counter)),
            }
        )
    release_commits_add(release=release, commits=items, actor=actor)
    return shas


def add_tickets(release, actor, *tickets: tuple[str, str]) -> None:
    release_tickets_add(
        release=release, tickets=[{"key": k, "title": t} for k, t in tickets], actor=actor
    )


def new_release(project, actor, version: str, title: str = ""):
    return release_create(
        project=project,
        version=version,
        title=title or f"Release {version}",
        actor=actor,
        rollback_plan="Redeploy the previous version.",
    )


def deploy(release, environment, actor, *, succeeded: bool = True):
    deployment = release_promote(release=release, environment=environment, actor=actor)
    return deployment_finish(deployment=deployment, succeeded=succeeded, actor=actor)
