"""The release record reads like a document: names, Markdown, refused attempts, whole words, any script."""

from __future__ import annotations

import time

import pytest

from approvals.services import decision_authorize
from checklists.models import Item
from checklists.services import item_tick
from compliance.pdf import record_pdf_document
from compliance.record import record_build
from core.exceptions import PermissionDenied
from releases.services import release_tickets_add, release_update
from tests.audit.test_record import story  # noqa: F401, F811 - the fixture

SCRIPTS = "Łódź — 支付 — Оплата"


def _source_words(record) -> set[str]:
    words: set[str] = set()
    for section in record.sections:
        for table in section.tables:
            for _key, label in table.columns:
                words.update(label.split())
            for row in table.rows:
                for key, _label in table.columns:
                    from compliance.record import display

                    words.update(display(row.get(key))[:600].split())
        for label, value in section.facts:
            from compliance.record import display

            words.update(label.split())
            words.update(display(value)[:600].split())
    return words


def test_pdf__names_in_polish_cyrillic_and_chinese_print_as_written(story, people):  # noqa: F811
    release = story["release"]
    people.alice.first_name, people.alice.last_name = "Łucja", "Оплата"
    people.alice.save()
    release_update(release=release, actor=people.alice, title=f"Checkout {SCRIPTS}")
    release_tickets_add(
        release=release, tickets=[{"key": "PAY-7", "title": SCRIPTS}], actor=people.alice
    )
    record = record_build(release=release, user=people.aud)
    pdf = record_pdf_document(record)
    assert pdf.fallback  # Chinese is not in DejaVu: the shipped fallback font was loaded
    assert any(SCRIPTS in line for line in pdf.drawn)
    assert any("Łucja Оплата" in line for line in pdf.drawn)
    data = pdf.output_bytes
    assert data.startswith(b"%PDF-")
    assert b"DroidSansFallback" in data and b"DejaVuSans" in data  # both embedded
    assert all("?" not in line for line in pdf.drawn if "Ł" in line or "支" in line)


def test_pdf__without_such_characters__does_not_load_the_large_fallback_font(story, people):  # noqa: F811
    record = record_build(release=story["release"], user=people.aud)
    pdf = record_pdf_document(record)
    assert not pdf.fallback
    assert b"DroidSansFallback" not in pdf.output_bytes


def test_pdf__cells_wrap_at_word_boundaries(story, people):  # noqa: F811
    release = story["release"]
    for item in Item.objects.filter(checklist__release=release, evidence_required=False)[:10]:
        item_tick(
            item=item,
            actor=people.alice,
            note="Development environment checked; Rollback rehearsed on staging at 19:58:57 UTC",
        )
    record = record_build(release=release, user=people.aud)
    pdf = record_pdf_document(record)
    words = _source_words(record)
    long_tokens = [w for w in words if len(w) > 15]  # hashes, JSON, links: may break inside
    for line in pdf.drawn:
        for word in line.split():
            assert word in words or any(word in token for token in long_tokens), (
                word,
                line,
                [t for t in words if word in t][:5],
            )
    assert any("Development" in line.split() for line in pdf.drawn)
    assert any("19:58:57" in line.split() for line in pdf.drawn)


def test_pdf__a_normal_release_is_built_in_about_a_second(story, people):  # noqa: F811
    """Measured; the bound leaves room for a shared machine (docs/audit.md gives the figures)."""
    release = story["release"]
    for item in Item.objects.filter(checklist__release=release, evidence_required=False)[:40]:
        item_tick(item=item, actor=people.alice, note="Done, evidence in the CI run")
    record = record_build(release=release, user=people.aud)
    started = time.process_time()
    pdf = record_pdf_document(record)
    spent = time.process_time() - started
    assert len(pdf.drawn) > 300  # a real record: the checklist, the events …
    assert spent < 2.0, f"{spent:.2f} s of CPU for the PDF"


def test_record_page__markdown_names_and_refused_attempts(client, story, people):  # noqa: F811
    release = story["release"]
    release_update(
        release=release,
        actor=people.alice,
        notes="## New\n\n* Saved cards\n* **Faster** checkout",
    )
    with pytest.raises(PermissionDenied):
        decision_authorize(release=release, actor=people.aud)
    client.force_login(people.aud)
    body = client.get(f"/audit/releases/{release.pk}/record/").content.decode()
    summary = body[body.index('id="record-summary"') : body.index('id="record-scope"')]
    assert "<h2>New</h2>" in summary and "<strong>Faster</strong>" in summary
    assert "## New" not in summary  # (the audit table shows the event's raw data, as recorded)
    assert "Refused attempts" in body
    approvals = client.get(f"/audit/releases/{release.pk}/record.json").json()
    section = next(s for s in approvals["sections"] if s["key"] == "approvals")
    refused = next(t for t in section["tables"] if t["title"].startswith("Refused attempts"))
    assert [r["person"] for r in refused["rows"]] == ["Aud"]
    assert refused["rows"][0]["attempt"] == "decide" and refused["rows"][0]["reason"]
    checklist = next(s for s in approvals["sections"] if s["key"] == "checklist")
    assert any(r["by"] == "Alice" for r in checklist["tables"][0]["rows"])
