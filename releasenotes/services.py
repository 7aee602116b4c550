"""Every write to release notes: regenerate, edit, publish, the tracker setting, secret links.

Each service checks the caller's right first (the release's managers, or a token with
the ``releases`` scope; the project's admins for the tracker setting), locks the rows it
changes, writes its audit event in the same transaction and leaves side effects to the
commit (``core.events.publish`` runs inside it, as its contract asks).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from core.events import publish
from core.exceptions import TransitionNotAllowed, ValidationFailed
from projects.choices import Role, TokenScope
from projects.models import Project
from projects.permissions import can_admin_project, can_manage_release, role_refusal
from projects.principals import Actor
from releasenotes.models import NotesDraft, NotesLink, NotesSettings, NotesVersion
from releasenotes.parsing import Entry, entries_markdown, notes_build
from releasenotes.render import entries_of, notes_compose, release_heading
from releasenotes.selectors import draft_markdown, tracker_template
from releases.choices import ReleaseStatus
from releases.models import Release
from releases.services import release_update

PUBLISHED_EVENT = "releasenotes.published"
# The person's part is prose, not a novel; the limit keeps pages and e-mails reasonable.
WRITTEN_MAX = 50_000
LINK_LABEL_MAX = 120
# Commits and tickets a regeneration reads at most (a release is far smaller).
SCOPE_MAX = 2_000


def _person(actor: Actor) -> User | None:
    """The person behind ``actor``: None for a token or Shipcheck itself."""
    return actor if isinstance(actor, User) and actor.pk else None


def notes_authorize(*, release: Release, actor: Actor) -> None:
    """Raise 403 unless ``actor`` may write this release's notes (``None`` is Shipcheck itself)."""
    if actor is not None and not can_manage_release(actor, release):
        raise role_refusal(
            Role.RELEASE_MANAGER,
            Role.ADMIN,
            to="write the release notes of this release",
            release_manager_of_release=True,
            token_scope=TokenScope.RELEASES,
        )


def _lock(release: Release) -> Release:
    return (
        Release.objects.select_related("project").select_for_update(of=("self",)).get(pk=release.pk)
    )


def _open_draft(release: Release) -> NotesDraft:
    """The release's draft, locked; a first draft starts from what the release's notes field holds."""
    draft = NotesDraft.objects.select_for_update().filter(release=release).first()
    if draft is None:
        draft, _ = NotesDraft.objects.get_or_create(
            release=release, defaults={"written": release.notes}
        )
        draft = NotesDraft.objects.select_for_update().get(pk=draft.pk)
    return draft


def _refuse_cancelled(release: Release) -> None:
    if release.status == ReleaseStatus.CANCELLED:
        raise TransitionNotAllowed(
            f"{release.version} is cancelled: its release notes can no longer change.",
            code="release_cancelled",
        )


def generated_entries(release: Release) -> list[Entry]:
    """The entries the release's commits and tickets give now (newest commit first, as git logs)."""
    commits = list(
        release.commits.order_by("-committed_at", "-id").values_list("sha", "message")[:SCOPE_MAX]
    )
    tickets = list(
        release.tickets.order_by("key").values("key", "title", "url", "type")[:SCOPE_MAX]
    )
    return notes_build(commits, tickets, tracker_template(release.project_id))


@transaction.atomic
def notes_regenerate(*, release: Release, actor: Actor) -> NotesDraft:
    """Rewrite the generated part of the draft from the release's commits and tickets.

    The person's part is left as it is; the generated text it replaces is kept in
    ``previous_generated`` so the page shows what changed. Audit: ``releasenotes.regenerated``.
    """
    notes_authorize(release=release, actor=actor)
    release = _lock(release)
    _refuse_cancelled(release)
    draft = _open_draft(release)
    entries = generated_entries(release)
    text = entries_markdown(entries)
    draft.previous_generated = draft.generated
    draft.generated = text
    draft.entries = [e.as_dict() for e in entries]
    draft.generated_at = timezone.now()
    draft.save()
    counts: dict[str, int] = {}
    for entry in entries:
        counts[entry.group] = counts.get(entry.group, 0) + 1
    audit_record(
        actor=actor,
        action="releasenotes.regenerated",
        obj=draft,
        project=release.project_id,
        release=release,
        data={
            "entries": len(entries),
            "groups": counts,
            "changed": draft.previous_generated != text,
        },
    )
    return draft


@transaction.atomic
def notes_edit(*, release: Release, actor: Actor, written: str) -> NotesDraft:
    """Replace the person's part of the draft; the generated part is untouched.

    Audit: ``releasenotes.edited`` (the length before and after; the text is in the draft).
    """
    notes_authorize(release=release, actor=actor)
    if not isinstance(written, str):
        raise ValidationFailed("The notes must be text.")
    if "\x00" in written:
        raise ValidationFailed("The notes contain a NUL character, which is not allowed.")
    if len(written) > WRITTEN_MAX:
        raise ValidationFailed(f"The notes are longer than {WRITTEN_MAX:,} characters.")
    written = written.replace("\r\n", "\n")
    release = _lock(release)
    _refuse_cancelled(release)
    draft = _open_draft(release)
    if draft.written == written:
        return draft
    before = len(draft.written)
    draft.written = written
    draft.edited_at = timezone.now()
    draft.edited_by = _person(actor)
    draft.save()
    audit_record(
        actor=actor,
        action="releasenotes.edited",
        obj=draft,
        project=release.project_id,
        release=release,
        data={"length_before": before, "length_after": len(written)},
    )
    return draft


@dataclass(frozen=True)
class Published:
    version: NotesVersion
    created: bool  # False: the draft was already published as this version, nothing changed


@transaction.atomic
def notes_publish(*, release: Release, actor: Actor) -> Published:
    """Freeze the draft as the next version of the release's notes; it never changes afterwards.

    A draft never regenerated is generated first. Publishing a draft that is already the
    latest version changes nothing. The published Markdown becomes the release's ``notes``
    field (through ``release_update``: the release page's notes and the release record show
    it). Audit: ``releasenotes.published`` (number and sha256); announces
    ``releasenotes.published`` (audience: stakeholders) with the Markdown in its data.
    """
    notes_authorize(release=release, actor=actor)
    release = _lock(release)
    _refuse_cancelled(release)
    draft = NotesDraft.objects.select_for_update().filter(release=release).first()
    if draft is None or draft.generated_at is None:
        draft = notes_regenerate(release=release, actor=actor)
    markdown = draft_markdown(release, draft)
    digest = hashlib.sha256(markdown.encode()).hexdigest()
    latest = NotesVersion.objects.filter(release=release).order_by("-number").first()
    if latest is not None and latest.digest == digest:
        return Published(version=latest, created=False)
    person = _person(actor)
    version = NotesVersion.objects.create(
        release=release,
        number=(latest.number if latest is not None else 0) + 1,
        markdown=markdown,
        written=draft.written,
        generated=draft.generated,
        entries=draft.entries,
        digest=digest,
        published_at=timezone.now(),
        published_by=person,
        published_by_label=actor.get_username() if actor is not None else "shipcheck",
    )
    audit_record(
        actor=actor,
        action="releasenotes.published",
        obj=version,
        project=release.project_id,
        release=release,
        data={"number": version.number, "sha256": digest, "entries": len(draft.entries)},
    )
    if release.notes != markdown:
        release_update(release=release, actor=actor, notes=markdown)
    url = release.get_absolute_url() + "#panel-notes"
    publish(
        PUBLISHED_EVENT,
        project=release.project,
        release=release,
        subject=f"Release notes for {release.project.name} {release.version} (version {version.number})",
        body=markdown,
        url=url,
        data={
            "release_id": release.pk,
            "version": release.version,
            "number": version.number,
            "markdown": markdown,
            "sha256": digest,
        },
    )
    return Published(version=version, created=True)


def version_markdown(version: NotesVersion) -> str:
    """A published version's Markdown as stored (recomposed only for rows without it)."""
    if version.markdown:
        return version.markdown
    release = version.release
    return notes_compose(
        heading=release_heading(
            project=release.project.name, version=release.version, title=release.title
        ),
        written=version.written,
        entries=entries_of(version.entries),
    )


@transaction.atomic
def tracker_set(*, project: Project, actor: Actor, template: str) -> NotesSettings:
    """Set the project's tracker URL template (``{key}`` marks the ticket key; empty removes it).

    Project admins only. Audit: ``releasenotes.tracker_changed``.
    """
    if actor is not None and not can_admin_project(actor, project):
        raise role_refusal(Role.ADMIN, to="change where ticket keys link")
    template = (template or "").strip()
    if len(template) > 300:
        raise ValidationFailed("The tracker URL template is longer than 300 characters.")
    if template:
        if not template.startswith(("https://", "http://")) or any(c.isspace() for c in template):
            raise ValidationFailed(
                "The tracker URL template must be an http(s) address without spaces, "
                "such as https://tracker.example.com/browse/{key}."
            )
        if template.count("{key}") != 1 or template.replace("{key}", "").count(
            "{"
        ) + template.replace("{key}", "").count("}"):
            raise ValidationFailed(
                "The tracker URL template must hold {key} exactly once, and no other braces."
            )
    row, _ = NotesSettings.objects.get_or_create(project=project)
    row = NotesSettings.objects.select_for_update().get(pk=row.pk)
    if row.tracker_url_template == template:
        return row
    old = row.tracker_url_template
    row.tracker_url_template = template
    row.save()
    audit_record(
        actor=actor,
        action="releasenotes.tracker_changed",
        obj=row,
        project=project,
        data={"from": old, "to": template},
    )
    return row


@dataclass(frozen=True)
class NewLink:
    link: NotesLink
    secret: str  # shown once; only its hash is stored


@transaction.atomic
def link_create(*, release: Release, actor: Actor, label: str = "") -> NewLink:
    """Make a secret link to the release's published notes. Audit: ``releasenotes.link_created``."""
    notes_authorize(release=release, actor=actor)
    label = (label or "").strip()
    if len(label) > LINK_LABEL_MAX or "\x00" in label:
        raise ValidationFailed(f"A link's label holds at most {LINK_LABEL_MAX} characters.")
    release = _lock(release)
    secret = secrets.token_urlsafe(32)
    link = NotesLink.objects.create(
        release=release,
        label=label,
        token_hash=hashlib.sha256(secret.encode()).hexdigest(),
        prefix=secret[:8],
        created_by=_person(actor),
    )
    audit_record(
        actor=actor,
        action="releasenotes.link_created",
        obj=link,
        project=release.project_id,
        release=release,
        data={"label": label, "prefix": link.prefix},
    )
    return NewLink(link=link, secret=secret)


@transaction.atomic
def link_revoke(*, link: NotesLink, actor: Actor) -> NotesLink:
    """Revoke a secret link: it answers 404 from now on. Revoking twice changes nothing.

    Audit: ``releasenotes.link_revoked``.
    """
    notes_authorize(release=link.release, actor=actor)
    link = NotesLink.objects.select_for_update().select_related("release").get(pk=link.pk)
    if link.revoked_at is not None:
        return link
    link.revoked_at = timezone.now()
    link.save(update_fields=["revoked_at"])
    audit_record(
        actor=actor,
        action="releasenotes.link_revoked",
        obj=link,
        project=link.release.project_id,
        release=link.release,
        data={"label": link.label, "prefix": link.prefix},
    )
    return link
