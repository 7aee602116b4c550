"""The grouping checked against git-cliff on a real git repository made by the test.

The same commits go through git-cliff (``--context``: each commit with its group and its
breaking flag) and through Shipcheck (attached to a release, then regenerated); every
commit must land in the same group. git-cliff's default group names are mapped to ours
below; the cliff.toml the test writes uses them, adding parsers for what Conventional
Commits leave open and GitLab's ``Changelog:`` trailers settle (a trailer wins, so its
parsers come first). git-cliff does not pair reverts, so the revert pair is compared on
our side only: both commits are left out.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from releasenotes.services import notes_regenerate
from releases.services import release_commits_add

pytestmark = pytest.mark.django_db

CLIFF_TOML = r"""
[changelog]
body = ""

[git]
conventional_commits = true
filter_unconventional = false
protect_breaking_commits = true
commit_parsers = [
  { footer = "^[Cc]hangelog: ?added$", group = "Features" },
  { footer = "^[Cc]hangelog: ?fixed$", group = "Bug Fixes" },
  { footer = "^[Cc]hangelog: ?changed$", group = "Refactor" },
  { footer = "^[Cc]hangelog: ?deprecated$", group = "Deprecated" },
  { footer = "^[Cc]hangelog: ?removed$", group = "Removed" },
  { footer = "^[Cc]hangelog: ?security$", group = "Security" },
  { footer = "^[Cc]hangelog: ?performance$", group = "Performance" },
  { footer = "^[Cc]hangelog: ?other$", group = "Other" },
  { message = "^feat", group = "Features" },
  { message = "^fix", group = "Bug Fixes" },
  { message = "^doc", group = "Documentation" },
  { message = "^perf", group = "Performance" },
  { message = "^refactor", group = "Refactor" },
  { message = "^style", group = "Styling" },
  { message = "^test", group = "Testing" },
  { message = "^security", group = "Security" },
  { message = "^deprecate", group = "Deprecated" },
  { message = "^chore|^ci", group = "Miscellaneous Tasks" },
  { message = "^revert", group = "Revert" },
  { message = ".*", group = "Other" },
]
"""

# git-cliff's default group names (and the two this cliff.toml adds) → ours.
CLIFF_TO_OURS = {
    "Features": "New",
    "Bug Fixes": "Fixed",
    "Refactor": "Improved",
    "Performance": "Performance",
    "Security": "Security",
    "Deprecated": "Deprecations",
    "Removed": "Breaking changes",
    "Documentation": "Other",
    "Styling": "Other",
    "Testing": "Other",
    "Miscellaneous Tasks": "Other",
    "Revert": "Other",
    "Other": "Other",
}

MESSAGES = [
    "feat(cart): keep carts for a week",
    "fix: coupon totals off by one cent",
    "perf(search): cache facet counts",
    "refactor: split the checkout service",
    "docs: describe the refund flow",
    "style: format the templates",
    "test: cover partial refunds",
    "chore: bump dependencies",
    "ci: cache the wheel builds",
    "security: escape customer names in receipts",
    "deprecate: the CSV export",
    "feat(api)!: drop the v1 payment endpoints",
    "fix(api): rename the amount field\n\nThe old name confused integrators.\n\nBREAKING CHANGE: send `amount_cents` instead of `amount`",
    "fix: spelling in the footer\n\nChangelog: other",
    "chore: tighten the session cookie\n\nChangelog: security",
    "feat: retry webhooks\n\nChangelog: fixed",
    "refactor: remove the legacy importer\n\nChangelog: removed",
    "Update README",
    "Merge the gift card work",
]


def _tool(name: str, path: str | None) -> str:
    if path and Path(path).exists():
        return path
    reason = (
        f"{name} is not installed: the release-note grouping cannot be checked against git-cliff."
    )
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(reason)
    pytest.skip("SKIPPED LOUDLY: " + reason)


def _git(repo: Path, *args: str, date: str | None = None) -> str:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(repo),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Eli Okafor",
        "GIT_AUTHOR_EMAIL": "eli@example.com",
        "GIT_COMMITTER_NAME": "Eli Okafor",
        "GIT_COMMITTER_EMAIL": "eli@example.com",
    }
    if date:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date
    result = subprocess.run(
        ["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True
    )
    return result.stdout


@pytest.fixture
def repo(tmp_path):
    _tool("git", shutil.which("git"))
    path = tmp_path / "shop"
    path.mkdir()
    _git(path, "init", "-q", "-b", "main")
    minute = 0

    def commit(message: str) -> str:
        nonlocal minute
        minute += 1
        _git(
            path,
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            message,
            date=f"2026-03-01T10:{minute:02d}:00+00:00",
        )
        return _git(path, "rev-parse", "HEAD").strip()

    shas = {message: commit(message) for message in MESSAGES[:6]}
    reverted = commit("feat: gift wrapping")
    revert = commit(f'Revert "feat: gift wrapping"\n\nThis reverts commit {reverted}.')
    shas.update({message: commit(message) for message in MESSAGES[6:]})
    (path / "cliff.toml").write_text(CLIFF_TOML)
    return path, shas, {reverted, revert}


def _cliff_groups(path: Path) -> dict[str, str]:
    binary = _tool(
        "git-cliff", shutil.which("git-cliff") or str(Path(sys.executable).parent / "git-cliff")
    )
    result = subprocess.run(
        [binary, "--config", "cliff.toml", "--context"],
        cwd=path,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "HOME": str(path), "GIT_CONFIG_NOSYSTEM": "1"},
    )
    groups = {}
    for release in json.loads(result.stdout):
        for commit in release["commits"]:
            ours = "Breaking changes" if commit.get("breaking") else CLIFF_TO_OURS[commit["group"]]
            groups[commit["id"]] = ours
    return groups


def _attach(release, actor, path: Path) -> None:
    log = _git(path, "log", "--format=%H%x1f%cI%x1f%B%x1e")
    commits = []
    for record in log.split("\x1e"):
        if not record.strip():
            continue
        sha, when, message = record.strip("\n").split("\x1f")
        commits.append(
            {"sha": sha, "message": message.strip(), "committed_at": datetime.fromisoformat(when)}
        )
    release_commits_add(release=release, commits=commits, actor=actor)


def test_grouping_matches_git_cliff_on_a_real_repository(repo, release, people):
    path, shas, revert_pair = repo
    cliff = _cliff_groups(path)
    _attach(release, people.alice, path)
    draft = notes_regenerate(release=release, actor=people.alice)
    ours = {entry["shas"][0]: entry["group"] for entry in draft.entries if entry["shas"]}

    compared = {sha: cliff[sha] for sha in shas.values()}
    assert {sha: ours.get(sha) for sha in shas.values()} == compared
    # Spot checks that the mapping is not vacuous: each of our groups is reached.
    assert set(compared.values()) == {
        "New",
        "Fixed",
        "Improved",
        "Performance",
        "Security",
        "Deprecations",
        "Breaking changes",
        "Other",
    }
    # git-cliff lists the revert pair; we leave both out.
    assert revert_pair <= set(cliff) and not (revert_pair & set(ours))
