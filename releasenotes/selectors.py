"""Every read of release notes, narrowed to what the caller may see, in a fixed number of queries."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from django.db.models import OuterRef, Q, QuerySet, Subquery

from core.exceptions import NotFound
from projects.models import Environment, Project
from projects.permissions import can_admin_project, can_manage_release
from projects.principals import Caller
from projects.selectors import project_list
from releasenotes.models import NotesDraft, NotesLink, NotesSettings, NotesVersion
from releasenotes.render import (
    ChangelogRelease,
    CoveredRelease,
    changelog_compose,
    entries_of,
    environment_compose,
    notes_compose,
    release_heading,
)
from releases.choices import DeploymentStatus, ReleaseStatus
from releases.models import Release

# How many releases an environment's notes reach back at most (a first deployment to a new
# environment would otherwise cover the project's whole history).
ENVIRONMENT_MAX_RELEASES = 50


def tracker_template(project: Project | int) -> str:
    project_id = project.pk if isinstance(project, Project) else project
    row = NotesSettings.objects.filter(project_id=project_id).only("tracker_url_template").first()
    return row.tracker_url_template if row is not None else ""


def draft_of(release: Release) -> NotesDraft | None:
    return NotesDraft.objects.filter(release=release).first()


def latest_version(release: Release) -> NotesVersion | None:
    return NotesVersion.objects.filter(release=release).order_by("-number").first()


def version_get(*, release: Release, number: int | str | None) -> NotesVersion:
    """One published version of ``release`` (the latest when ``number`` is None), or NotFound."""
    if number in (None, ""):
        version = latest_version(release)
        if version is None:
            raise NotFound(f"The notes of {release.version} are not published yet.")
        return version
    try:
        n = int(str(number))
    except ValueError:
        raise NotFound("No such version of these notes.") from None
    version = (
        NotesVersion.objects.filter(release=release, number=n).first() if 0 < n < 2**31 else None
    )
    if version is None:
        raise NotFound(f"The notes of {release.version} have no version {str(number)[:12]}.")
    return version


def version_list(*, release: Release) -> QuerySet[NotesVersion]:
    return (
        NotesVersion.objects.filter(release=release)
        .select_related("published_by")
        .order_by("-number")
    )


def draft_markdown(release: Release, draft: NotesDraft | None) -> str:
    """The whole draft as it would be published now."""
    written = draft.written if draft is not None else release.notes
    entries = entries_of(draft.entries) if draft is not None else []
    return notes_compose(
        heading=release_heading(
            project=release.project.name, version=release.version, title=release.title
        ),
        written=written,
        entries=entries,
    )


def draft_changed(release: Release, draft: NotesDraft | None, latest: NotesVersion | None) -> bool:
    """Whether publishing now would make a new version."""
    if draft is None:
        return False
    if latest is None:
        return True
    return hashlib.sha256(draft_markdown(release, draft).encode()).hexdigest() != latest.digest


@dataclass
class EnvironmentNotes:
    release: Release
    environment: Environment
    since: Release | None
    covered: list[CoveredRelease] = field(default_factory=list)
    truncated: bool = False

    @property
    def markdown(self) -> str:
        return environment_compose(
            project=self.release.project.name,
            environment=str(self.environment),
            target=self.release.version,
            since=self.since.version if self.since is not None else None,
            covered=self.covered,
        )


def _below(release: Release) -> Q:
    """Releases of lower version than ``release`` (major, minor, patch, then creation order)."""
    ma, mi, pa = release.version_major, release.version_minor, release.version_patch
    return (
        Q(version_major__lt=ma)
        | Q(version_major=ma, version_minor__lt=mi)
        | Q(version_major=ma, version_minor=mi, version_patch__lt=pa)
        | Q(version_major=ma, version_minor=mi, version_patch=pa, created_at__lt=release.created_at)
    )


_VERSION_ORDER = ("-version_major", "-version_minor", "-version_patch", "-created_at", "-id")


def _latest_number() -> Subquery:
    return Subquery(
        NotesVersion.objects.filter(release=OuterRef("release"))
        .order_by("-number")
        .values("number")[:1]
    )


def environment_notes(*, release: Release, environment: Environment) -> EnvironmentNotes:
    """What deploying ``release`` to ``environment`` brings: every release since the last one that
    succeeded there (Octopus's accumulation). Four queries whatever the history's length."""
    since = (
        Release.objects.filter(
            _below(release),
            project_id=release.project_id,
            deployments__environment=environment,
            deployments__status=DeploymentStatus.SUCCEEDED,
        )
        .order_by(*_VERSION_ORDER)
        .first()
    )
    scope = Release.objects.filter(
        Q(pk=release.pk) | _below(release), project_id=release.project_id
    ).exclude(status=ReleaseStatus.CANCELLED)
    if since is not None:
        scope = scope.exclude(Q(pk=since.pk) | _below(since))
    rows = list(scope.order_by(*_VERSION_ORDER)[: ENVIRONMENT_MAX_RELEASES + 1])
    truncated = len(rows) > ENVIRONMENT_MAX_RELEASES
    rows = rows[:ENVIRONMENT_MAX_RELEASES]
    ids = [r.pk for r in rows]
    versions = {
        v.release_id: v
        for v in NotesVersion.objects.filter(release_id__in=ids, number=_latest_number())
    }
    drafts = {d.release_id: d for d in NotesDraft.objects.filter(release_id__in=ids)}
    covered = []
    for r in rows:
        v, d = versions.get(r.pk), drafts.get(r.pk)
        if v is not None:
            covered.append(
                CoveredRelease(
                    r.version, r.title, v.written, entries_of(v.entries), "published", v.number
                )
            )
        elif d is not None:
            covered.append(
                CoveredRelease(r.version, r.title, d.written, entries_of(d.entries), "draft")
            )
        else:
            covered.append(CoveredRelease(r.version, r.title, "", [], "none"))
    return EnvironmentNotes(
        release=release, environment=environment, since=since, covered=covered, truncated=truncated
    )


def changelog_markdown(*, project: Project) -> str:
    """CHANGELOG.md of ``project``: each release's latest published notes, newest version first."""
    versions = (
        NotesVersion.objects.filter(release__project=project, number=_latest_number())
        .exclude(release__status=ReleaseStatus.CANCELLED)
        .select_related("release")
        .order_by(*(f"-release__{name[1:]}" for name in _VERSION_ORDER))
    )
    releases = [
        ChangelogRelease(
            version=v.release.version,
            day=v.published_at.date(),
            written=v.written,
            entries=entries_of(v.entries),
            yanked=v.release.status == ReleaseStatus.ROLLED_BACK,
        )
        for v in versions
    ]
    return changelog_compose(project=project.name, releases=releases)


def project_for_notes(*, user: Caller, slug: str) -> Project:
    project = project_list(user=user).filter(slug=str(slug)[:60]).first()
    if project is None:
        raise NotFound("No such project.")
    return project


def link_list(*, release: Release) -> list[NotesLink]:
    return list(NotesLink.objects.filter(release=release).select_related("created_by"))


def link_resolve(secret: str) -> NotesLink:
    """The active link whose secret is ``secret``; NotFound for a wrong or revoked one."""
    if not secret or len(secret) > 200:
        raise NotFound("This link does not exist or was revoked.")
    digest = hashlib.sha256(secret.encode()).hexdigest()
    link = (
        NotesLink.objects.filter(token_hash=digest, revoked_at__isnull=True)
        .select_related("release__project")
        .first()
    )
    if link is None:
        raise NotFound("This link does not exist or was revoked.")
    return link


@dataclass
class Panel:
    release: Release
    draft: NotesDraft | None
    latest: NotesVersion | None
    versions: list[NotesVersion]
    links: list[NotesLink]
    environments: list[Environment]
    can_manage: bool
    can_configure: bool
    changed: bool
    markdown: str
    tracker_template: str


def notes_panel(*, release: Release, user: Caller) -> Panel:
    """What the release page's notes section shows (a fixed number of queries)."""
    draft = draft_of(release)
    versions = list(version_list(release=release)[:20])
    latest = versions[0] if versions else None
    may_manage = can_manage_release(user, release)
    environments = getattr(release, "pipeline_environments", None)
    if environments is None:
        environments = list(
            Environment.objects.filter(
                project_id=release.project_id, retired_at__isnull=True
            ).order_by("order")
        )
    return Panel(
        release=release,
        draft=draft,
        latest=latest,
        versions=versions,
        links=link_list(release=release) if may_manage else [],
        environments=list(environments),
        can_manage=may_manage,
        can_configure=can_admin_project(user, release.project_id),
        changed=draft_changed(release, draft, latest),
        markdown=draft_markdown(release, draft),
        tracker_template=tracker_template(release.project_id),
    )
