"""Listeners of the release calendar (registered in ``DeployCalendarConfig.ready``)."""

from __future__ import annotations

from releases.registry import on


@on("deployment_refused")
def freeze_violation_on_refused_report(*, release, environment, actor, report) -> None:
    """A pipeline reported a deployment during a freeze: record and announce it loudly."""
    from deploycalendar.services import freeze_violation_record

    gate = next((g for g in report.gates if g.code == "deploy_window" and not g.is_open), None)
    if gate is not None and gate.freeze:
        freeze_violation_record(
            release=release,
            environment=environment,
            actor=actor,
            freeze=gate.freeze,
            reason=gate.reason,
        )
