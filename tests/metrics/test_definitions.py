"""One place for definitions: docs/metrics.md says what metrics/definitions.py says."""

from __future__ import annotations

from pathlib import Path

from metrics.definitions import BAND_RULES, BAND_YEAR, BANDS, DEFINITIONS, band_for

DOC = (Path(__file__).resolve().parents[2] / "docs" / "metrics.md").read_text()


def test_every_definition_is_in_the_docs_word_for_word():
    for d in DEFINITIONS.values():
        assert f"### {d.label} (`{d.key}`)" in DOC
        for text in (d.counts, d.excludes, d.timestamps):
            assert text in DOC, (d.key, text[:60])
    for rule in BAND_RULES.values():
        assert rule in DOC


def test_bands_name_the_2024_clusters():
    assert BAND_YEAR == 2024
    assert band_for("lead_time_for_changes", 3600).name == "elite"
    assert band_for("lead_time_for_changes", 3 * 86400).name == "high"
    assert band_for("change_failure_rate", 12).name == "medium"
    assert band_for("change_failure_rate", 22).name == "high"
    assert band_for("failed_deployment_recovery_time", 5 * 86400).name == "low"
    assert band_for("change_failure_rate", None) is None
    assert set(BANDS) == set(BAND_RULES)
