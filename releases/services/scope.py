"""A release's scope: the tickets it ships and the commits it is built from."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from django.db import transaction

from audit.services import audit_record
from core.exceptions import ValidationFailed
from projects.principals import Actor
from releases.models import Commit, Release, Ticket
from releases.registry import emit
from releases.services._common import check_text, lock_release
from releases.services.authorize import release_authorize


@transaction.atomic
def release_tickets_add(
    *, release: Release, tickets: Iterable[Mapping[str, Any]], actor: Actor
) -> list[Ticket]:
    """Add or update tickets in the release's scope.

    A new key changes the scope: ``scope_changed`` is emitted (approvals that
    depended on the old scope are invalidated). Audit: ``release.scope_changed``.
    """
    release_authorize(release=release, actor=actor, action="scope")
    release = lock_release(release)
    existing = {t.key: t for t in Ticket.objects.filter(release=release)}
    added: list[str] = []
    saved: list[Ticket] = []
    for item in tickets:
        key = check_text(str(item.get("key", "")), "Ticket key", 64).strip()
        if not key:
            raise ValidationFailed("Every ticket needs a key, such as PROJ-123.")
        values = {
            "title": check_text(item.get("title", ""), "Ticket title", 300),
            "url": check_text(item.get("url", ""), "Ticket URL", 500),
            "status": check_text(item.get("status", ""), "Ticket status", 64),
            "type": check_text(item.get("type", ""), "Ticket type", 64),
        }
        if values["url"] and not values["url"].startswith(("http://", "https://")):
            raise ValidationFailed(f"The URL of ticket {key} must start with http:// or https://.")
        ticket = existing.get(key)
        if ticket is None:
            ticket = Ticket.objects.create(release=release, key=key, **values)
            existing[key] = ticket
            added.append(key)
        else:
            for name, value in values.items():
                setattr(ticket, name, value)
            ticket.save()
        saved.append(ticket)
    if added:
        audit_record(
            actor=actor,
            action="release.scope_changed",
            obj=release,
            project=release.project_id,
            release=release,
            reason=f"Added {', '.join(added)}.",
            data={"added": added, "removed": []},
        )
        emit(
            "scope_changed",
            release=release,
            actor=actor,
            reason=f"Tickets added: {', '.join(added)}.",
        )
    return saved


@transaction.atomic
def release_tickets_remove(*, release: Release, keys: Collection[str], actor: Actor) -> int:
    """Remove tickets from the scope. Audit: ``release.scope_changed``; emits ``scope_changed``."""
    release_authorize(release=release, actor=actor, action="scope")
    release = lock_release(release)
    removed = sorted(
        Ticket.objects.filter(release=release, key__in=keys).values_list("key", flat=True)
    )
    if not removed:
        return 0
    Ticket.objects.filter(release=release, key__in=removed).delete()
    audit_record(
        actor=actor,
        action="release.scope_changed",
        obj=release,
        project=release.project_id,
        release=release,
        reason=f"Removed {', '.join(removed)}.",
        data={"added": [], "removed": removed},
    )
    emit(
        "scope_changed",
        release=release,
        actor=actor,
        reason=f"Tickets removed: {', '.join(removed)}.",
    )
    return len(removed)


@transaction.atomic
def release_commits_add(
    *, release: Release, commits: Iterable[Mapping[str, Any]], actor: Actor
) -> int:
    """Attach commits (sha, message, author, committed_at). Audit: ``release.commits_added``;
    emits ``commits_changed``."""
    release_authorize(release=release, actor=actor, action="commits")
    release = lock_release(release)
    known = set(Commit.objects.filter(release=release).values_list("sha", flat=True))
    new: list[Commit] = []
    for item in commits:
        sha = check_text(str(item.get("sha", "")), "Commit sha", 64).strip().lower()
        if not sha or any(c not in "0123456789abcdef" for c in sha) or len(sha) < 7:
            raise ValidationFailed(f"'{sha[:64]}' is not a git commit hash (7 to 64 hex digits).")
        if sha in known:
            continue
        known.add(sha)
        new.append(
            Commit(
                release=release,
                sha=sha,
                message=check_text(item.get("message", ""), "Commit message"),
                author=check_text(item.get("author", ""), "Commit author", 200),
                committed_at=item.get("committed_at"),
            )
        )
    Commit.objects.bulk_create(new)
    if new:
        audit_record(
            actor=actor,
            action="release.commits_added",
            obj=release,
            project=release.project_id,
            release=release,
            data={"count": len(new), "shas": [c.sha for c in new[:50]]},
        )
        emit("commits_changed", release=release, actor=actor, removed=[])
    return len(new)


@transaction.atomic
def release_commits_remove(*, release: Release, shas: Collection[str], actor: Actor) -> int:
    """Detach commits (by full sha) from the release. Audit: ``release.commits_removed``;
    emits ``commits_changed``."""
    release_authorize(release=release, actor=actor, action="commits")
    release = lock_release(release)
    wanted = {str(sha).strip().lower() for sha in shas if str(sha).strip()}
    removed = sorted(
        Commit.objects.filter(release=release, sha__in=wanted).values_list("sha", flat=True)
    )
    if not removed:
        return 0
    Commit.objects.filter(release=release, sha__in=removed).delete()
    audit_record(
        actor=actor,
        action="release.commits_removed",
        obj=release,
        project=release.project_id,
        release=release,
        reason=f"Removed {', '.join(sha[:8] for sha in removed[:20])}.",
        data={"count": len(removed), "shas": removed[:50]},
    )
    emit("commits_changed", release=release, actor=actor, removed=removed)
    return len(removed)
