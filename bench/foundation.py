"""Foundation benchmark: release creation and promotion through the services, the gate
answer, the releases API list, and audit chain verification.

Run with `make bench` (a fresh SQLite database in var/bench/, or DATABASE_URL).
Prints one line per measurement; numbers are wall-clock on this machine.
"""

from __future__ import annotations

import statistics
import time
import uuid

RELEASES = 300


def _timed(func, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        func()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _report(label: str, samples_ms: list[float]) -> None:
    ordered = sorted(samples_ms)
    p95 = ordered[max(int(len(ordered) * 0.95) - 1, 0)]
    print(
        f"{label:<44} median {statistics.median(ordered):7.2f} ms   p95 {p95:7.2f} ms   n={len(ordered)}"
    )


def main() -> int:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    from audit.selectors import audit_chain_verify
    from projects.choices import Role
    from projects.services import membership_grant, project_create
    from releases.gates import gate_evaluate
    from releases.services import deployment_finish, release_create, release_promote

    suffix = uuid.uuid4().hex[:6]
    User = get_user_model()
    manager = User.objects.create_user(f"bench-rm-{suffix}", password="bench")
    project = project_create(name=f"Bench {suffix}", actor=None, admins=[manager])
    membership_grant(project=project, user=manager, role=Role.RELEASE_MANAGER)
    environments = {e.name: e for e in project.environments.all()}

    # Only the core gates: this measures the foundation, not the other apps' rules.
    with override_settings(SHIPCHECK_GATE_APPS={"releases"}, CELERY_TASK_ALWAYS_EAGER=True):
        counter = iter(range(RELEASES))
        created = []

        def create():
            n = next(counter)
            created.append(
                release_create(
                    project=project,
                    version=f"1.{n}.0",
                    title=f"Release {n}",
                    actor=manager,
                    rollback_plan="Redeploy the previous build.",
                )
            )

        _report("release_create (service, audited)", _timed(create, RELEASES))

        promotable = iter(created)

        def promote_and_finish():
            release = next(promotable)
            deployment = release_promote(
                release=release, environment=environments["dev"], actor=manager
            )
            deployment_finish(deployment=deployment, succeeded=True, actor=manager)

        _report("release_promote + deployment_finish (dev)", _timed(promote_and_finish, 100))

        sample = created[0]
        _report(
            "gate_evaluate (staging)",
            _timed(lambda: gate_evaluate(release=sample, environment=environments["staging"]), 200),
        )

        client = Client()
        client.force_login(manager)
        _report(
            "GET /api/v1/releases/ (50 per page)",
            _timed(lambda: client.get("/api/v1/releases/"), 50),
        )
        _report(
            "GET /api/v1/releases/{id}/gates/staging/",
            _timed(lambda: client.get(f"/api/v1/releases/{sample.pk}/gates/staging/"), 100),
        )
        with CaptureQueriesContext(connection) as queries:
            client.get("/api/v1/releases/")
        print(f"{'queries for one releases list page':<44} {len(queries.captured_queries)}")

    started = time.perf_counter()
    count, broken = audit_chain_verify()
    elapsed = time.perf_counter() - started
    print(
        f"{'audit_chain_verify':<44} {count} events in {elapsed * 1000:.0f} ms "
        f"({count / elapsed:,.0f} events/s){'  BROKEN' if broken else ''}"
    )
    return 1 if broken else 0
