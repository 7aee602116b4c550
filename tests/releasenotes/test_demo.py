"""The demo publishes the notes of every version production ran, and seeding twice adds nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from audit.models import AuditEvent
from releasenotes.models import NotesVersion
from releasenotes.selectors import changelog_markdown, environment_notes
from releases.choices import ReleaseStatus
from releases.models import Release

pytestmark = pytest.mark.django_db


def test_demo__every_shipped_version_has_published_notes__and_a_second_run_adds_nothing(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    call_command("seed_demo", stdout=StringIO())
    shipped = Release.objects.filter(status__in=[ReleaseStatus.RELEASED, ReleaseStatus.ROLLED_BACK])
    assert shipped.filter(project__slug="storefront").count() >= 4
    for release in shipped:
        version = NotesVersion.objects.get(release=release)
        assert version.number == 1 and release.notes == version.markdown, release.version
    storefront = {r.version: r for r in Release.objects.filter(project__slug="storefront")}
    first = NotesVersion.objects.get(release=storefront["2.1.0"]).markdown
    assert first.startswith("# Storefront 2.1.0: ")
    assert "https://tracker.example.com/browse/SF-101" in first
    changelog = changelog_markdown(project=storefront["2.1.0"].project)
    assert "## [2.2.0] - " in changelog and "[YANKED]" in changelog
    # 2.3.0 waits for production: its production notes start after the last version there.
    production = storefront["2.3.0"].project.environments.get(name="production")
    notes = environment_notes(release=storefront["2.3.0"], environment=production)
    assert notes.since is not None and notes.covered[0].version == "2.3.0"

    events = AuditEvent.objects.count()
    call_command("seed_demo", stdout=StringIO())
    assert AuditEvent.objects.count() == events
