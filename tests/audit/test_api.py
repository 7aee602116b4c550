"""The audit API and commands: keyset pages, read-only endpoints, checkpoints, the export command."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from audit.models import AuditCheckpoint, AuditEvent
from releases.services import release_update


def test_events_api__keyset_pages_follow_next_and_previous(client, release, people):
    for n in range(7):
        release_update(release=release, actor=people.alice, title=f"T{n}")
    client.force_login(people.aud)
    first = client.get("/api/v1/audit/events/", {"project": "payments", "page_size": 3}).json()
    assert [e["seq"] for e in first["results"]] == sorted(
        (e["seq"] for e in first["results"]), reverse=True
    )
    assert len(first["results"]) == 3 and first["previous"] is None
    second = client.get(first["next"]).json()
    assert max(e["seq"] for e in second["results"]) < min(e["seq"] for e in first["results"])
    back = client.get(second["previous"]).json()
    assert [e["seq"] for e in back["results"]] == [e["seq"] for e in first["results"]]
    event = first["results"][0]
    stored = AuditEvent.objects.get(seq=event["seq"])
    assert event["hash"] == stored.hash and event["project_hash"] == stored.project_hash
    assert event["created_at"].endswith("Z")


@pytest.mark.parametrize("query", [{"page_size": "many"}, {"before": "-1"}, {"to": "not-a-day"}])
def test_events_api__bad_parameters__400_with_a_message(client, release, people, query):
    client.force_login(people.aud)
    response = client.get("/api/v1/audit/events/", query)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid" and response.json()["message"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/audit/events/",
        "/api/v1/audit/exports/jsonl/",
        "/api/v1/audit/release-history/",
        "/api/v1/audit/checkpoints/",
    ],
)
def test_audit_api__is_read_only(client, release, people, url):
    client.force_login(people.adam)
    for method in ("post", "put", "patch", "delete"):
        assert (
            getattr(client, method)(url, data={}, content_type="application/json").status_code
            == 405
        )


def test_checkpoints_api__lists_the_callers_projects_only(client, trail, people, root):
    client.force_login(people.aud)
    scopes = {c["scope"] for c in client.get("/api/v1/audit/checkpoints/").json()}
    assert scopes == {f"project:{trail['release'].project_id}"}
    client.force_login(root)
    scopes = {c["scope"] for c in client.get("/api/v1/audit/checkpoints/").json()}
    assert "all" in scopes and len(scopes) == 3


def test_audit_checkpoint_command__signs_once_then_waits_for_news(release, people, capsys):
    call_command("audit_checkpoint")
    first = AuditCheckpoint.objects.count()
    assert first == 2  # the chain and the project
    call_command("audit_checkpoint")
    assert AuditCheckpoint.objects.count() == first
    assert "Nothing new" in capsys.readouterr().out
    release_update(release=release, actor=people.alice, title="News")
    call_command("audit_checkpoint")
    assert AuditCheckpoint.objects.count() == first + 2


def test_audit_export_command__writes_what_the_person_may_see(trail, people, tmp_path):
    from audit.offline_verify import EXIT_OK, verify_file
    from tests.audit.conftest import key

    path = tmp_path / "trail.jsonl"
    call_command("audit_export", "--as", "aud", "--project", "payments", "-o", str(path))
    lines = path.read_text().splitlines()
    assert json.loads(lines[0])["scope"] == f"project:{trail['release'].project_id}"
    assert verify_file(str(path), key()).status == EXIT_OK
    whole = tmp_path / "all.jsonl"
    call_command("audit_export", "-o", str(whole))
    assert len(whole.read_text().splitlines()) == AuditEvent.objects.count() + 2


def test_checkpoints_api__costs_the_same_queries_for_3_and_12_projects(
    client, root, people, django_assert_max_num_queries
):
    from audit.checkpoints import audit_checkpoint_take
    from projects.services import project_create

    made = iter(range(100))

    def grow(count):
        for _ in range(count):
            project_create(name=f"Project {next(made)}", actor=None)
        audit_checkpoint_take()

    client.force_login(root)
    grow(3)
    client.get("/api/v1/audit/checkpoints/")
    with django_assert_max_num_queries(50) as few:
        small = client.get("/api/v1/audit/checkpoints/").json()
    grow(9)
    with django_assert_max_num_queries(len(few.captured_queries)):
        large = client.get("/api/v1/audit/checkpoints/").json()
    assert len(large) == len(small) + 9
