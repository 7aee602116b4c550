"""Situations the incident tests (and the browser test) start from, built through the services."""

from __future__ import annotations

from typing import Any


def make_failed_canary(*, release: Any, envs: dict, people: Any, settings: Any) -> Any:
    """``release`` deployed to production as a canary that a person aborted; its window.

    Promotions are checked against the releases app's gates only; the production health
    check points at a closed local port and is never polled here.
    """
    from monitoring.choices import WindowKind
    from monitoring.models import MonitoringWindow
    from monitoring.services import deployment_start, window_decide
    from releases.choices import DeploymentStrategy
    from releases.services import deployment_finish, release_promote
    from tests.monitoring.conftest import configure

    settings.SHIPCHECK_FETCH_ALLOWLIST = ["127.0.0.1"]
    settings.SHIPCHECK_GATE_APPS = {"releases"}
    for name in ("dev", "staging"):
        deployment = release_promote(release=release, environment=envs[name], actor=people.bob)
        deployment_finish(deployment=deployment, succeeded=True, actor=people.bob)
    configure(
        envs["production"],
        people.adam,
        canary_duration=600,
        post_deploy_duration=600,
        poll_interval=60,
        health=[{"name": "Health", "url": "http://127.0.0.1:9/healthz"}],
    )
    deployment = deployment_start(
        release=release,
        environment=envs["production"],
        actor=people.bob,
        strategy=DeploymentStrategy.CANARY,
    )
    window = MonitoringWindow.objects.get(deployment=deployment, kind=WindowKind.CANARY)
    window_decide(
        window=window, actor=people.alice, action="rollback", reason="Checkout errors at 12 %."
    )
    window.refresh_from_db()
    return window
