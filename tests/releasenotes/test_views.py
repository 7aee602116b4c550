"""The release page's notes section, its actions with and without htmx, downloads, public links."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from releasenotes.models import NotesVersion
from releasenotes.services import link_create, link_revoke, notes_edit, notes_publish, tracker_set
from tests.releasenotes.helpers import add_commits, add_tickets, new_release

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def _login(client, user):
    client.force_login(user)
    return client


def test_release_page__shows_the_notes_section_with_actions_for_the_manager(
    client, release, people
):
    add_commits(release, people.alice, "feat: search")
    body = _login(client, people.alice).get(release.get_absolute_url()).content.decode()
    assert 'id="panel-notes"' in body and "Not started" in body
    assert reverse("releasenotes:regenerate", args=[release.pk]) in body
    assert ">Publish</button>" in body


def test_release_page__readers_see_no_actions(client, release, people):
    body = _login(client, people.quinn).get(release.get_absolute_url()).content.decode()
    assert 'id="panel-notes"' in body
    assert reverse("releasenotes:regenerate", args=[release.pk]) not in body
    assert "Make a secret link" not in body


def test_regenerate__htmx_answers_the_section(client, release, people):
    add_commits(release, people.alice, "fix: rounding")
    response = _login(client, people.alice).post(
        reverse("releasenotes:regenerate", args=[release.pk]), **HTMX
    )
    body = response.content.decode()
    assert response.status_code == 200 and body.lstrip().startswith("{#") is False
    assert 'id="notes-section"' in body and "Regenerated from the commits and tickets." in body
    assert "<h2>Fixed</h2>" in body and "Rounding" in body


def test_edit_and_publish__without_javascript(client, release, people):
    add_commits(release, people.alice, "feat: search")
    _login(client, people.alice)
    page = client.get(reverse("releasenotes:edit", args=[release.pk]))
    assert page.status_code == 200 and 'name="written"' in page.content.decode()
    response = client.post(
        reverse("releasenotes:edit", args=[release.pk]), {"written": "**Big** news."}
    )
    assert response.status_code == 302 and response["Location"].endswith("#panel-notes")
    response = client.post(reverse("releasenotes:publish", args=[release.pk]), follow=True)
    body = response.content.decode()
    assert "Version 1 published." in body
    assert "<strong>Big</strong> news." in body
    assert NotesVersion.objects.get(release=release).written == "**Big** news."


def test_publish__htmx_asks_the_page_to_refresh(client, release, people):
    add_commits(release, people.alice, "feat: search")
    response = _login(client, people.alice).post(
        reverse("releasenotes:publish", args=[release.pk]), **HTMX
    )
    assert response["HX-Trigger"] == "releaseChanged"
    assert "Version 1 published." in response.content.decode()


def test_edit__too_long_rerenders_with_the_message(client, release, people):
    response = _login(client, people.alice).post(
        reverse("releasenotes:edit", args=[release.pk]), {"written": "x" * 50_001}
    )
    assert (
        response.status_code == 200 and "longer than 50,000 characters" in response.content.decode()
    )


def test_actions__refused_for_engineer_and_hidden_from_outsider(client, release, people):
    _login(client, people.bob)
    assert client.post(reverse("releasenotes:publish", args=[release.pk])).status_code == 403
    assert client.get(reverse("releasenotes:edit", args=[release.pk])).status_code == 403
    client.force_login(people.olga)
    assert client.post(reverse("releasenotes:publish", args=[release.pk])).status_code == 404
    assert client.get(reverse("releasenotes:download-md", args=[release.pk])).status_code == 404


def test_downloads__markdown_and_html_of_a_version(client, release, people):
    add_commits(release, people.alice, "feat: search <script>")
    notes_publish(release=release, actor=people.alice)
    notes_edit(release=release, actor=people.alice, written="Second thoughts.")
    notes_publish(release=release, actor=people.alice)
    _login(client, people.quinn)
    md = client.get(reverse("releasenotes:download-md", args=[release.pk]))
    assert (
        md["Content-Type"].startswith("text/markdown") and "attachment" in md["Content-Disposition"]
    )
    assert "Second thoughts." in md.content.decode()
    first = client.get(
        reverse("releasenotes:download-md", args=[release.pk]) + "?version=1"
    ).content.decode()
    assert "Second thoughts." not in first
    html = client.get(reverse("releasenotes:download-html", args=[release.pk])).content.decode()
    assert "<h2>New</h2>" in html and "<script>" not in html
    assert (
        client.get(
            reverse("releasenotes:download-md", args=[release.pk]) + "?version=9"
        ).status_code
        == 404
    )


def test_downloads__before_publishing_answer_404_but_the_draft_downloads(client, release, people):
    _login(client, people.alice)
    assert client.get(reverse("releasenotes:download-md", args=[release.pk])).status_code == 404
    draft = client.get(reverse("releasenotes:download-md", args=[release.pk]) + "?draft=1")
    assert draft.status_code == 200 and draft.content.decode().startswith("# Payments 2.4.0")


def test_public_link__anonymous_reader_sees_the_published_notes_until_revoked(
    client, release, people
):
    add_commits(release, people.alice, "feat: search")
    notes_publish(release=release, actor=people.alice)
    made = link_create(release=release, actor=people.alice, label="Customers")
    url = reverse("releasenotes:public", args=[made.secret])
    response = client.get(url)
    assert response.status_code == 200 and response["Referrer-Policy"] == "no-referrer"
    body = response.content.decode()
    assert "<h2>New</h2>" in body and "Search" in body and "Make a secret link" not in body
    assert client.get(reverse("releasenotes:public-md", args=[made.secret])).status_code == 200
    assert (
        client.get(reverse("releasenotes:public", args=[made.secret[:-1] + "x"])).status_code == 404
    )
    link_revoke(link=made.link, actor=people.alice)
    assert client.get(url).status_code == 404


def test_public_link__created_in_the_page_is_shown_once(client, release, people):
    _login(client, people.alice)
    response = client.post(
        reverse("releasenotes:link-create", args=[release.pk]), {"label": "EU"}, **HTMX
    )
    body = response.content.decode()
    url = re.search(r'value="(http[^"]+/release-notes/p/[^"]+/)"', body).group(1)
    again = client.get(release.get_absolute_url()).content.decode()
    assert url not in again and "EU" in again


def test_changelog__keep_a_changelog_across_published_releases(client, project, people, release):
    tracker_set(
        project=project, actor=people.adam, template="https://tracker.example.com/browse/{key}"
    )
    add_tickets(release, people.alice, ("PAY-1", "Search"))
    add_commits(release, people.alice, "feat: search (PAY-1)", "fix: crash")
    notes_publish(release=release, actor=people.alice)
    later = new_release(project, people.alice, "2.5.0")
    add_commits(later, people.alice, "feat!: new API\n\nBREAKING CHANGE: use v2")
    notes_publish(release=later, actor=people.alice)
    new_release(project, people.alice, "2.6.0")  # nothing published: not in the changelog
    text = (
        _login(client, people.quinn)
        .get(reverse("releasenotes:changelog", args=[project.slug]))
        .content.decode()
    )
    assert text.startswith("# Changelog\n")
    assert "Keep a Changelog" in text
    assert text.index("## [2.5.0] - ") < text.index("## [2.4.0] - ")
    assert "2.6.0" not in text
    section = text[text.index("## [2.4.0]") :]
    assert "### Added\n\n- Search ([PAY-1](https://tracker.example.com/browse/PAY-1))" in section
    assert "### Fixed\n\n- Crash" in section
    assert "- **Breaking:** New API" in text


def test_environment_page__and_its_markdown(client, project, people, release, envs):
    _login(client, people.quinn)
    url = reverse("releasenotes:environment", args=[release.pk, "production"])
    page = client.get(url)
    assert page.status_code == 200 and "Notes for Production" in page.content.decode()
    md = client.get(url + "?format=md")
    assert md.content.decode().startswith("# Payments: Production notes for 2.4.0")
    assert (
        client.get(reverse("releasenotes:environment", args=[release.pk, "nowhere"])).status_code
        == 404
    )


def test_settings_page__admin_sets_the_template_others_read_it(client, project, people):
    url = reverse("releasenotes:settings", args=[project.slug])
    _login(client, people.adam)
    bad = client.post(url, {"tracker_url_template": "ftp://x/{key}"})
    assert bad.status_code == 200 and "must be an http(s) address" in bad.content.decode()
    assert (
        client.post(url, {"tracker_url_template": "https://t.example.com/{key}"}).status_code == 302
    )
    client.force_login(people.alice)
    body = client.get(url).content.decode()
    assert "https://t.example.com/{key}" in body and "Only the project's admins" in body
    assert client.post(url, {"tracker_url_template": ""}).status_code == 403


def test_release_page__constant_queries_with_the_notes_section(
    client, project, people, django_assert_max_num_queries
):
    def page(n):
        rel = new_release(project, people.alice, f"7.{n}.0")
        add_commits(rel, people.alice, *[f"feat: thing {i}" for i in range(n)])
        add_tickets(rel, people.alice, *[(f"PAY-{i}", f"Ticket {i}") for i in range(n)])
        notes_publish(release=rel, actor=people.alice)
        for i in range(n):
            notes_edit(release=rel, actor=people.alice, written=f"Edit {i}")
            notes_publish(release=rel, actor=people.alice)
            link_create(release=rel, actor=people.alice, label=f"L{i}")
        return rel

    small, big = page(1), page(15)
    _login(client, people.alice)
    client.get(small.get_absolute_url())
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(small.get_absolute_url()).status_code == 200
    with django_assert_max_num_queries(len(ctx.captured_queries)):
        assert client.get(big.get_absolute_url()).status_code == 200


def test_release_record__lists_every_published_version(client, release, people):
    add_commits(release, people.alice, "feat: search")
    first = notes_publish(release=release, actor=people.alice).version
    notes_edit(release=release, actor=people.alice, written="More.")
    notes_publish(release=release, actor=people.alice)
    record = _login(client, people.aud).get(f"/audit/releases/{release.pk}/record.json").json()
    section = next(s for s in record["sections"] if s["key"] == "release_notes")
    rows = section["tables"][0]["rows"]
    assert [r["number"] for r in rows] == [1, 2] and rows[0]["sha256"] == first.digest
    assert rows[0]["by"] == "Alice"
