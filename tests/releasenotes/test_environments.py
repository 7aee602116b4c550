"""Notes per environment: every release since the last one that succeeded there."""

from __future__ import annotations

import pytest

from releasenotes.selectors import environment_notes
from releasenotes.services import notes_publish, notes_regenerate
from tests.releasenotes.helpers import add_commits, deploy, new_release

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(gates_only, project, people, envs):
    """2.4.0 everywhere; 2.4.1 in dev and staging only; 2.4.2 in dev and staging; 2.4.3 failed in dev."""
    gates_only("releases")
    alice = people.alice
    made = {}
    for version, message in [
        ("2.4.0", "feat: base"),
        ("2.4.1", "fix: skipped by production"),
        ("2.4.2", "feat: wanted"),
    ]:
        rel = new_release(project, alice, version)
        add_commits(rel, alice, message)
        made[version] = rel
    for name in ("dev", "staging", "production"):
        deploy(made["2.4.0"], envs[name], alice)
    notes_publish(release=made["2.4.1"], actor=alice)
    notes_regenerate(release=made["2.4.2"], actor=alice)
    for name in ("dev", "staging"):
        deploy(made["2.4.1"], envs[name], alice)
        deploy(made["2.4.2"], envs[name], alice)
    made["2.4.3"] = new_release(project, alice, "2.4.3")
    deploy(made["2.4.3"], envs["dev"], alice, succeeded=False)
    return made


def test_production_notes_for_2_4_2_include_the_skipped_2_4_1(history, envs):
    notes = environment_notes(release=history["2.4.2"], environment=envs["production"])
    assert notes.since.version == "2.4.0"
    assert [(c.version, c.state) for c in notes.covered] == [
        ("2.4.2", "draft"),
        ("2.4.1", "published"),
    ]
    text = notes.markdown
    assert "when 2.4.2 replaces 2.4.0; covers 2.4.2, 2.4.1." in text
    assert "## 2.4.1: Release 2.4.1 (version 1)" in text and "Skipped by production" in text
    assert "## 2.4.2: Release 2.4.2 (draft, not yet published)" in text and "Base" not in text


def test_staging_notes_cover_only_what_staging_has_not_run(history, envs):
    notes = environment_notes(release=history["2.4.2"], environment=envs["staging"])
    assert notes.since.version == "2.4.1"
    assert [c.version for c in notes.covered] == ["2.4.2"]


def test_a_failed_deployment_does_not_count_as_deployed(history, envs):
    notes = environment_notes(release=history["2.4.3"], environment=envs["dev"])
    assert notes.since.version == "2.4.2"
    assert [(c.version, c.state) for c in notes.covered] == [("2.4.3", "none")]


def test_first_deployment_to_an_environment_covers_everything_before(
    gates_only, project, people, envs
):
    rel = new_release(project, people.alice, "1.0.0")
    later = new_release(project, people.alice, "1.1.0")
    notes = environment_notes(release=later, environment=envs["production"])
    assert notes.since is None and [c.version for c in notes.covered] == ["1.1.0", "1.0.0"]
    assert "nothing was deployed there before" in notes.markdown
    assert rel  # the older release is covered


def test_environment_notes_use_a_constant_number_of_queries(
    gates_only, project, people, envs, django_assert_max_num_queries
):
    gates_only("releases")
    releases = []
    for n in range(2):
        releases.append(new_release(project, people.alice, f"5.{n}.0"))
        add_commits(releases[-1], people.alice, "feat: a")
        notes_publish(release=releases[-1], actor=people.alice)
    with django_assert_max_num_queries(4):
        small = environment_notes(release=releases[-1], environment=envs["production"])
        _ = small.markdown
    for n in range(2, 12):
        releases.append(new_release(project, people.alice, f"5.{n}.0"))
        add_commits(releases[-1], people.alice, "feat: b")
        notes_publish(release=releases[-1], actor=people.alice)
    with django_assert_max_num_queries(4):
        big = environment_notes(release=releases[-1], environment=envs["production"])
        _ = big.markdown
    assert len(big.covered) == 12
