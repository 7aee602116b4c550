"""Exports: streamed, filtered like the browser, formula-safe, exact, and never across projects."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.db import transaction

from audit.exports import csv_uncell
from audit.models import AuditEvent, format_timestamp
from audit.services import audit_record
from core.exceptions import ValidationFailed
from releases.services import release_create
from tests.audit.conftest import export_bytes, lines_of

AWKWARD = {
    "reason": '=HYPERLINK("http://evil.example","click")\r\nsecond line\twith a tab',
    "from_state": "+cmd\x01\x08\x0b\x0c\\N",
    "to_state": "-1+1",
    "object_repr": "@SUM(A1:A9) · Zürich — ünïcödé ✓ 漢字 🚀",
    "data": {
        "note": "line one\nline two",
        "formula": "=1+2",
        "quote": "'=already quoted",
        "nested": {"x": [1, 2.5, None, True]},
        "emoji": "🚀",
        "backslash": "C:\\temp\\",
        "sep": 'a,b;"c"',
    },
}


@pytest.fixture
def awkward_event(release, people):
    with transaction.atomic():
        return audit_record(
            actor=people.alice,
            action="release.noted",
            obj=release,
            project=release.project_id,
            release=release,
            **AWKWARD,
        )


def _events_from_jsonl(data: bytes) -> list[dict]:
    return [json.loads(line) for line in lines_of(data)[1:-1]]


def _rows_from_csv(data: bytes) -> list[dict]:
    text = data.decode("utf-8")
    body = "".join(line for line in io.StringIO(text, newline="") if not line.startswith("#"))
    return list(csv.DictReader(io.StringIO(body, newline="")))


def test_jsonl__awkward_values__round_trip_exactly(awkward_event, people):
    events = _events_from_jsonl(export_bytes(people.aud, {"project": "payments"}))
    exported = next(e for e in events if e["seq"] == awkward_event.seq)
    stored = awkward_event.hashed_fields()
    for name, value in stored.items():
        assert exported[name] == value, name
    assert exported["hash"] == awkward_event.hash
    assert exported["data"] == AWKWARD["data"]


def test_csv__awkward_values__escaped_against_formulas_and_reversible(awkward_event, people):
    data = export_bytes(people.aud, {"project": "payments"}, fmt="csv")
    rows = _rows_from_csv(data)
    row = next(r for r in rows if r["seq"] == str(awkward_event.seq))
    # Every cell that a spreadsheet would run as a formula starts with a quote instead.
    assert row["reason"].startswith("'=")
    assert row["from_state"] == "'" + AWKWARD["from_state"]
    assert row["to_state"] == "'-1+1"
    assert row["object_repr"].startswith("'@")
    for r in rows:
        for value in r.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
    # ... and one leading quote less gives back the value exactly.
    assert csv_uncell(row["reason"]) == AWKWARD["reason"]
    assert csv_uncell(row["object_repr"]) == AWKWARD["object_repr"]
    assert json.loads(csv_uncell(row["data"])) == AWKWARD["data"]
    assert csv_uncell(row["hash"]) == awkward_event.hash
    assert row["created_at"] == format_timestamp(awkward_event.created_at)


def test_csv__prints_the_checkpoint_line(trail, people):
    data = export_bytes(people.aud, {"project": "payments"}, fmt="csv").decode()
    comment = [line for line in data.splitlines() if line.startswith("# {")][0]
    header = json.loads(comment[2:])
    assert header["checkpoints"][0]["scope"] == f"project:{trail['release'].project_id}"


def test_nul__is_refused_at_input_and_by_the_trail(people, project, release):
    with pytest.raises(ValidationFailed, match="NUL"):
        release_create(project=project, version="3.0.0", title="bad\x00title", actor=people.alice)
    with pytest.raises(ValidationFailed, match="NUL"), transaction.atomic():
        audit_record(actor=people.alice, action="release.noted", obj=release, reason="a\x00b")
    with pytest.raises(ValidationFailed, match="NUL"), transaction.atomic():
        audit_record(actor=people.alice, action="release.noted", obj=release, data={"x": "a\x00b"})


# --- Streaming ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/audit/export.jsonl",
        "/audit/export.csv",
        "/api/v1/audit/exports/jsonl/",
        "/api/v1/audit/exports/csv/",
    ],
)
def test_export__is_streamed_as_a_download(client, trail, people, url):
    client.force_login(people.aud)
    response = client.get(url, {"project": "payments"})
    assert response.status_code == 200
    assert response.streaming
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content)
    assert (
        body.count(b"\n")
        >= AuditEvent.objects.filter(project_id=trail["release"].project_id).count()
    )


def test_export__batches_keep_memory_flat(trail, people, monkeypatch):
    """Rows stream in bounded chunks (keyset batches, or COPY rows regrouped): never one big list."""
    import audit.exports_pg as exports_pg
    import audit.selectors as selectors

    monkeypatch.setattr(
        selectors.audit_row_batches,
        "__kwdefaults__",
        {"upper": None, "batch": 2, "canonical_data": False},
    )
    monkeypatch.setattr(exports_pg, "CHUNK_BYTES", 1)
    from audit.exports import ExportPlan, jsonl_stream
    from compliance.filters import audit_filters_parse

    plan = ExportPlan(audit_filters_parse(people.aud, {"project": "payments"}))
    chunks = list(jsonl_stream(plan))
    events = AuditEvent.objects.filter(project_id=trail["release"].project_id).count()
    # A header, one chunk per batch of (at most) two rows, and the end line.
    assert len(chunks) >= 2 + (events + 1) // 2
    assert all(chunk.count(b"\n") <= 2 for chunk in chunks[1:-1])


@pytest.mark.parametrize(
    "query, message",
    [
        ({"from": "yesterday"}, "is not a date"),
        ({"from": "2026-13-01"}, "is not a date"),
        ({"from": "2026-05-02", "to": "2026-05-01"}, "ends before it starts"),
        ({"project": "nope"}, "No project"),
        ({"action": "DROP TABLE"}, "An action looks like"),
        ({"release": "abc"}, "Choose a project"),
        ({"person": "nobody"}, "No person"),
        ({"from": "0001-01-01"}, "between 1970"),
    ],
)
def test_export__malformed_filters__clear_400(client, trail, people, query, message):
    client.force_login(people.aud)
    for url in ("/audit/export.jsonl", "/audit/export.csv"):
        response = client.get(url, query)
        assert response.status_code == 400
        assert message in response.content.decode()
    api = client.get("/api/v1/audit/exports/jsonl/", query)
    assert api.status_code == 400
    assert message in api.json()["message"]


# --- Isolation -----------------------------------------------------------------------------------


def _assert_only_payments(body: str, trail, people):
    other = trail["other"]
    assert other.version not in body
    assert "olga" not in body
    assert "Elsewhere" not in body and "Other, take" not in body


@pytest.mark.parametrize(
    "url",
    [
        "/audit/export.jsonl",
        "/audit/export.csv",
        "/api/v1/audit/exports/jsonl/",
        "/api/v1/audit/exports/csv/",
        "/audit/release-history.csv",
        "/audit/release-history.json",
        "/api/v1/audit/release-history/",
        "/api/v1/audit/events/",
        "/audit/",
        "/api/v1/audit/checkpoints/",
    ],
)
def test_auditor_of_one_project__never_sees_another_projects_rows(client, trail, people, url):
    client.force_login(people.aud)
    for query in ({}, {"action": "release."}, {"person": "alice"}):
        response = client.get(url, query)
        assert response.status_code == 200, (url, query)
        body = (
            b"".join(response.streaming_content) if response.streaming else response.content
        ).decode()
        _assert_only_payments(body, trail, people)
        assert f"project:{trail['other'].project_id}" not in body


@pytest.mark.parametrize(
    "url",
    [
        "/audit/export.jsonl",
        "/audit/export.csv",
        "/api/v1/audit/events/",
        "/audit/release-history.json",
    ],
)
def test_auditor__asking_for_another_project_or_release__is_told_it_does_not_exist(
    client, trail, people, url
):
    client.force_login(people.aud)
    for query in ({"project": "other"}, {"release": str(trail["other"].pk)}, {"person": "olga"}):
        response = client.get(url, query)
        assert response.status_code == 400, (url, query)
        body = (
            b"".join(response.streaming_content) if response.streaming else response.content
        ).decode()
        _assert_only_payments(body.replace("olga", ""), trail, people)


@pytest.mark.parametrize("suffix", ["record/", "record.pdf", "record.json"])
def test_release_record_of_another_project__404(client, trail, people, suffix):
    client.force_login(people.aud)
    assert client.get(f"/audit/releases/{trail['other'].pk}/{suffix}").status_code == 404
    assert client.get(f"/api/v1/audit/releases/{trail['other'].pk}/record/").status_code == 404
    assert client.get(f"/api/v1/audit/releases/{trail['other'].pk}/record/pdf/").status_code == 404


def test_outsider__exports_nothing_of_payments(client, trail, people):
    client.force_login(people.olga)
    body = b"".join(client.get("/audit/export.jsonl").streaming_content).decode()
    assert "alice" not in body and "Checkout" not in body
    assert client.get("/audit/export.csv", {"project": "payments"}).status_code == 400


def test_token_without_read_scope__reads_no_events(client, trail, people, project):
    from projects.services import api_token_create

    _token, secret = api_token_create(
        project=project, name="ci", scopes=["deployments"], actor=people.adam
    )
    response = client.get("/api/v1/audit/events/", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 403
    _token, secret = api_token_create(
        project=project, name="reader", scopes=["read"], actor=people.adam
    )
    response = client.get("/api/v1/audit/events/", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 200
    assert {e["project_id"] for e in response.json()["results"]} == {project.pk}
