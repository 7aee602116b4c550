"""Release-notes benchmark: parse and group commits, and the release page's notes section.

Measures, in the same run:

* the pure grouper (``releasenotes.parsing.notes_build``) over 20,000 varied commit
  messages (headers of every type, breaking footers, trailers, reverts, ticket keys),
  beside a bare loop that only splits each message into lines, the yardstick;
* ``notes_regenerate`` on a release holding 2,000 commits and 200 tickets (the most a
  regeneration reads), through the service: queries, audit event and all.

Goals: the grouper at 10,000 commits/s or more (a release reads at most 2,000), and one
regeneration of the largest release under 2 seconds. Run with ``make bench`` (fresh database in var/bench/).
"""

from __future__ import annotations

import random
import statistics
import time

COMMITS = 20_000
ROUNDS = 3
GROUPER_GOAL_PER_SECOND = 10_000
REGENERATE_GOAL_SECONDS = 2.0

_TYPES = [
    "feat",
    "fix",
    "perf",
    "refactor",
    "docs",
    "chore",
    "test",
    "security",
    "deprecate",
    "style",
]


def _messages(n: int) -> list[tuple[str, str]]:
    rng = random.Random(16)
    out = []
    for i in range(n):
        sha = f"{rng.getrandbits(160):040x}"
        kind = rng.random()
        scope = f"({rng.choice(['api', 'cart', 'search', 'ui'])})" if rng.random() < 0.5 else ""
        header = f"{rng.choice(_TYPES)}{scope}: change number {i} for PAY-{rng.randint(1, 400)}"
        if kind < 0.05:
            message = (
                f"{header}\n\nWhy it changed.\n\nBREAKING CHANGE: call the v{i % 3 + 2} endpoint"
            )
        elif kind < 0.15:
            message = (
                f"{header}\n\nChangelog: {rng.choice(['added', 'fixed', 'security', 'removed'])}"
            )
        elif kind < 0.18 and out:
            message = f'Revert "{out[-1][1].splitlines()[0]}"\n\nThis reverts commit {out[-1][0]}.'
        elif kind < 0.25:
            message = f"Plain message {i} without a type\n\nA body line.\nAnother one."
        else:
            message = header
        out.append((sha, message))
    out.reverse()  # git log order: newest first
    return out


def _bare(commits) -> int:
    count = 0
    for _sha, message in commits:
        count += len(message.split("\n"))
    return count


def main() -> int:
    from django.db import transaction

    from releasenotes.parsing import notes_build

    commits = _messages(COMMITS)
    bare, grouped = [], []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        _bare(commits)
        bare.append(time.perf_counter() - started)
        started = time.perf_counter()
        entries = notes_build(commits)
        grouped.append(time.perf_counter() - started)
    rate = COMMITS / statistics.median(grouped)
    bare_rate = COMMITS / statistics.median(bare)
    print(
        f"grouper: {rate:,.0f} commits/s ({len(entries):,} entries); "
        f"bare line split: {bare_rate:,.0f} commits/s; goal {GROUPER_GOAL_PER_SECOND:,}/s"
    )

    from django.contrib.auth.models import User

    from projects.models import Project
    from releasenotes.services import notes_regenerate
    from releases.models import Commit, Release, Ticket

    with transaction.atomic():
        project, _ = Project.objects.get_or_create(
            slug="bench-notes", defaults={"name": "Bench notes"}
        )
        manager, _ = User.objects.get_or_create(username="bench-notes-manager")
        release = Release.objects.create(
            project=project,
            version=f"9.{int(time.time()) % 100000}.0",
            title="Big one",
            release_manager=manager,
            rollback_plan="Redeploy.",
        )
        Commit.objects.bulk_create(
            Commit(release=release, sha=sha, message=message) for sha, message in commits[:2000]
        )
        Ticket.objects.bulk_create(
            Ticket(release=release, key=f"PAY-{k}", title=f"Ticket {k}") for k in range(1, 201)
        )
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        draft = notes_regenerate(release=release, actor=None)
        times.append(time.perf_counter() - started)
    regen = statistics.median(times)
    print(
        f"regenerate 2,000 commits + 200 tickets: {regen:.3f} s median of {ROUNDS} "
        f"({len(draft.entries):,} entries); goal under {REGENERATE_GOAL_SECONDS} s"
    )
    met = rate >= GROUPER_GOAL_PER_SECOND and regen < REGENERATE_GOAL_SECONDS
    print("goal met" if met else "goal NOT met")
    return 0 if met else 1
