"""The audit browser: filters, keyset pages, links, messages for bad filters, constant queries."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEvent
from releases.services import release_update


def _seqs(response) -> list[int]:
    return [int(s) for s in re.findall(r'data-seq="(\d+)"', response.content.decode())]


@pytest.fixture
def many(release, people):
    for n in range(60):
        release_update(release=release, actor=people.alice, title=f"Title {n}")
    return release


def test_browser__auditor_sees_events_newest_first_with_states_reasons_and_links(
    client, trail, people
):
    client.force_login(people.aud)
    response = client.get("/audit/")
    assert response.status_code == 200
    body = response.content.decode()
    seqs = _seqs(response)
    assert seqs == sorted(seqs, reverse=True)
    visible = set(
        AuditEvent.objects.filter(project_id=trail["release"].project_id).values_list(
            "seq", flat=True
        )
    )
    assert set(seqs) == visible
    assert f'href="/releases/{trail["release"].pk}/"' in body
    assert "release.updated" in body
    assert '<nav class="mainnav"' in body and ">Audit</a>" in body


def test_browser__filters_by_person_action_release_and_dates(client, trail, people, release):
    client.force_login(people.aud)
    by_alice = _seqs(client.get("/audit/", {"person": "alice"}))
    assert by_alice and set(by_alice) == set(
        AuditEvent.objects.filter(actor_label="alice").values_list("seq", flat=True)
    )
    updates = _seqs(client.get("/audit/", {"action": "release.updated"}))
    assert len(updates) == 4
    family = _seqs(client.get("/audit/", {"action": "release."}))
    assert set(updates) < set(family)
    of_release = _seqs(client.get("/audit/", {"project": "payments", "release": release.version}))
    assert set(of_release) == set(
        AuditEvent.objects.filter(release_id=release.pk).values_list("seq", flat=True)
    )
    today = timezone.now().date()
    assert _seqs(client.get("/audit/", {"from": str(today), "to": str(today)})) == _seqs(
        client.get("/audit/")
    )
    assert _seqs(client.get("/audit/", {"to": str(today - timedelta(days=1))})) == []


def test_browser__status_and_data_show_for_each_event(client, release, people):
    from releases.services import release_cancel

    release_cancel(release=release, actor=people.alice, reason="Customer asked to wait")
    client.force_login(people.aud)
    body = client.get("/audit/", {"action": "release.status_changed"}).content.decode()
    assert 'planned</span> → <span class="audit-state">cancelled' in body
    assert "Customer asked to wait" in body


@pytest.mark.parametrize(
    "query, message",
    [
        ({"from": "31/12/2026"}, "is not a date"),
        ({"from": "2026-06-02", "to": "2026-06-01"}, "ends before it starts"),
        ({"project": "other"}, "No project"),
        ({"before": "x1"}, "not a page position"),
        ({"person": "x" * 300}, "longer than 200"),
        ({"action": "<script>"}, "An action looks like"),
        ({"release": "9" * 30}, "No release"),
        ({"project": "9" * 30}, "No project"),
        ({"after": "9" * 30}, "not a page position"),
        ({"to": "2026-01-01T10:00:00+99:00"}, "is not a date"),
    ],
)
def test_browser__malformed_filters__clear_message_no_rows(client, trail, people, query, message):
    client.force_login(people.aud)
    response = client.get("/audit/", query)
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body
    assert 'class="alert alert-error audit-filter-error"' in body
    assert _seqs(response) == []
    assert "<script>" not in body.split("<main", 1)[1].split("</main>", 1)[0].replace(
        "<script src", ""
    )


def test_browser__keyset_pages_newer_and_older(client, many, people):
    client.force_login(people.aud)
    first = client.get("/audit/", {"project": "payments"})
    page1 = _seqs(first)
    assert len(page1) == 50
    older = re.search(r'href="\?project=payments&amp;before=(\d+)"', first.content.decode())
    assert older and int(older.group(1)) == page1[-1]
    second = client.get("/audit/", {"project": "payments", "before": page1[-1]})
    page2 = _seqs(second)
    assert page2 and max(page2) < min(page1)
    newer = re.search(r'href="\?project=payments&amp;after=(\d+)"', second.content.decode())
    assert newer
    back = client.get("/audit/", {"project": "payments", "after": newer.group(1)})
    assert _seqs(back) == page1


def test_browser__htmx_gets_the_table_fragment(client, trail, people):
    client.force_login(people.aud)
    response = client.get("/audit/", {"action": "release."}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="audit-events"')
    assert "<html" not in body


def test_browser__query_count_does_not_grow_with_events_or_pages(client, release, people):
    client.force_login(people.aud)
    client.get("/audit/")  # warm the session and caches

    def queries(**query):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/audit/", query).status_code == 200
        return len(ctx.captured_queries)

    few = queries(project="payments")
    for n in range(70):
        release_update(release=release, actor=people.alice, title=f"T{n}")
    full = queries(project="payments")
    deeper = queries(project="payments", before=40)
    everything = queries(
        project="payments", person="alice", action="release.", **{"from": "2020-01-01"}
    )
    assert full == few
    assert deeper <= few + 1
    assert everything <= few + 3
    assert full <= 14


def test_browser__outsider_sees_only_their_own_project(client, trail, people):
    client.force_login(people.olga)
    seqs = set(_seqs(client.get("/audit/")))
    assert seqs == set(
        AuditEvent.objects.filter(project_id=trail["other"].project_id).values_list(
            "seq", flat=True
        )
    )


def test_browser__anonymous_is_sent_to_login(client):
    response = client.get("/audit/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_browser__events_link_to_their_objects_pages(release, people):
    from compliance.links import event_object_url

    def url(object_type, object_id, release_id=None):
        return event_object_url(
            AuditEvent(object_type=object_type, object_id=str(object_id), release_id=release_id)
        )

    assert url("releases.release", release.pk) == f"/releases/{release.pk}/"
    assert url("approvals.gonogomeeting", 7, release.pk) == "/approvals/meetings/7/"
    assert url("monitoring.monitoringwindow", 3) == "/monitoring/windows/3/"
    assert url("checklists.item", 12, release.pk) == f"/checklists/releases/{release.pk}/"
    assert url("releases.deployment", 5, release.pk) == f"/releases/{release.pk}/"
    assert url("something.else", "x") is None
