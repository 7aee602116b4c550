"""Regenerate, edit, publish, versions, the tracker template and secret links, as a user sees them."""

from __future__ import annotations

import pytest
from django.db import transaction

from audit.models import AuditEvent
from core.exceptions import PermissionDenied, TransitionNotAllowed, ValidationFailed
from releasenotes.models import NotesVersion
from releasenotes.selectors import link_resolve
from releasenotes.services import (
    link_create,
    link_revoke,
    notes_edit,
    notes_publish,
    notes_regenerate,
    tracker_set,
)
from releases.models import Release
from releases.services import release_cancel
from tests.releasenotes.helpers import add_commits, add_tickets

pytestmark = pytest.mark.django_db


def test_regenerate__groups_commits_and_links_tickets(release, people, project):
    tracker_set(
        project=project, actor=people.adam, template="https://tracker.example.com/browse/{key}"
    )
    add_tickets(release, people.alice, ("PAY-7", "One-click pay"), ("PAY-8", "Docs"))
    add_commits(
        release,
        people.alice,
        "feat(checkout): one-click pay (PAY-7)",
        "fix: rounding of coupons",
        "feat(api)!: drop v1\n\nBREAKING CHANGE: call /v2/payments instead",
    )
    draft = notes_regenerate(release=release, actor=people.alice)
    text = draft.generated
    assert text.index("## Breaking changes") < text.index("## New") < text.index("## Fixed")
    assert "[PAY-7](https://tracker.example.com/browse/PAY-7)" in text
    assert "- **api: Drop v1**: call /v2/payments instead" in text
    assert "Docs ([PAY-8](https://tracker.example.com/browse/PAY-8))" in text
    event = AuditEvent.objects.get(action="releasenotes.regenerated")
    assert event.data["groups"] == {"Breaking changes": 1, "New": 1, "Fixed": 1, "Other": 1}


def test_regenerate__keeps_the_persons_part_and_remembers_the_old_generated_text(release, people):
    add_commits(release, people.alice, "feat: first")
    notes_regenerate(release=release, actor=people.alice)
    notes_edit(release=release, actor=people.alice, written="Thanks to the **payments** team.")
    add_commits(release, people.alice, "fix: second")
    draft = notes_regenerate(release=release, actor=people.alice)
    assert draft.written == "Thanks to the **payments** team."
    assert "Second" in draft.generated and "Second" not in draft.previous_generated


def test_first_draft_starts_from_the_release_notes_field(people, project):
    from tests.releasenotes.helpers import new_release

    rel = new_release(project, people.alice, "3.0.0")
    Release.objects.filter(pk=rel.pk).update(notes="Written before the notes app.")
    rel.refresh_from_db()
    assert (
        notes_regenerate(release=rel, actor=people.alice).written == "Written before the notes app."
    )


def test_publish__freezes_a_version_feeds_the_release_and_announces_it(
    release, people, published_events
):
    add_commits(release, people.alice, "feat: search")
    notes_edit(release=release, actor=people.alice, written="Highlights.")
    result = notes_publish(release=release, actor=people.alice)
    assert result.created and result.version.number == 1
    release.refresh_from_db()
    assert release.notes == result.version.markdown
    assert result.version.markdown.startswith(
        "# Payments 2.4.0: Faster checkout\n\nHighlights.\n\n## New"
    )
    audit = AuditEvent.objects.get(action="releasenotes.published")
    assert audit.data["number"] == 1 and audit.data["sha256"] == result.version.digest
    (event,) = [e for e in published_events if e.key == "releasenotes.published"]
    assert event.data["markdown"] == result.version.markdown and event.release == release


def test_publish__twice_without_change_makes_no_new_version(release, people):
    add_commits(release, people.alice, "feat: search")
    first = notes_publish(release=release, actor=people.alice)
    again = notes_publish(release=release, actor=people.alice)
    assert not again.created and again.version.pk == first.version.pk
    assert NotesVersion.objects.filter(release=release).count() == 1


def test_publish__a_later_edit_makes_a_new_version_and_the_old_one_stays(release, people):
    add_commits(release, people.alice, "feat: search")
    v1 = notes_publish(release=release, actor=people.alice).version
    notes_edit(release=release, actor=people.alice, written="Now with a summary.")
    v2 = notes_publish(release=release, actor=people.alice).version
    v1.refresh_from_db()
    assert (v1.number, v2.number) == (1, 2)
    assert "Now with a summary." not in v1.markdown and "Now with a summary." in v2.markdown


def test_rights__engineer_auditor_and_outsider_are_refused(release, people):
    for person in (people.bob, people.aud, people.olga):
        with pytest.raises(PermissionDenied):
            notes_regenerate(release=release, actor=person)
        with pytest.raises(PermissionDenied):
            notes_publish(release=release, actor=person)
    assert not AuditEvent.objects.filter(action__startswith="releasenotes.").exists()


def test_admin_may_write_the_notes_of_any_release(release, people):
    assert notes_publish(release=release, actor=people.adam).created


def test_edit__bad_input_changes_nothing(release, people):
    for bad in ("x\x00y", "x" * 50_001):
        with pytest.raises(ValidationFailed):
            notes_edit(release=release, actor=people.alice, written=bad)
    assert not AuditEvent.objects.filter(action="releasenotes.edited").exists()


def test_cancelled_release__notes_no_longer_change(release, people):
    release_cancel(release=release, actor=people.alice, reason="Superseded")
    with pytest.raises(TransitionNotAllowed):
        notes_publish(release=release, actor=people.alice)


def test_a_rolled_back_publish_leaves_nothing(release, people, published_events):
    add_commits(release, people.alice, "feat: search")
    with pytest.raises(RuntimeError), transaction.atomic():
        notes_publish(release=release, actor=people.alice)
        raise RuntimeError("the surrounding change failed")
    assert not NotesVersion.objects.exists()
    release.refresh_from_db()
    assert release.notes == ""


@pytest.mark.parametrize(
    "template",
    [
        "tracker.example.com/{key}",
        "https://t.example.com/browse/",
        "https://t/{key}/{key}",
        "https://t/{id}/{key}",
        "https://a b/{key}",
    ],
)
def test_tracker_template__refused_when_malformed(project, people, template):
    with pytest.raises(ValidationFailed):
        tracker_set(project=project, actor=people.adam, template=template)


def test_tracker_template__only_admins(project, people):
    with pytest.raises(PermissionDenied):
        tracker_set(project=project, actor=people.alice, template="https://t.example.com/{key}")


def test_secret_link__hash_stored_resolves_and_revokes(release, people):
    made = link_create(release=release, actor=people.alice, label="Customers")
    assert made.secret not in made.link.token_hash and len(made.link.token_hash) == 64
    assert link_resolve(made.secret).pk == made.link.pk
    link_revoke(link=made.link, actor=people.alice)
    from core.exceptions import NotFound

    with pytest.raises(NotFound):
        link_resolve(made.secret)
    assert AuditEvent.objects.filter(action="releasenotes.link_revoked").count() == 1
    link_revoke(link=made.link, actor=people.alice)
    assert AuditEvent.objects.filter(action="releasenotes.link_revoked").count() == 1
