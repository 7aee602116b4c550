from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Deployment monitoring"

    def ready(self) -> None:
        from celery import current_app as celery_app

        from core.events import event_type
        from core.nav import nav_item
        from monitoring import (
            gates,
            metrics,  # noqa: F401 - registers the poll lag gauge of /metrics
            urgent,  # noqa: F401 - registers the banner's monitoring items
        )
        from monitoring.panels import monitoring_panel_context
        from monitoring.services.windows import on_deployment_changed, release_hold
        from monitoring.tasks import schedule
        from releases import registry

        registry.on("deployment_changed")(on_deployment_changed)
        # Announced with core.events.publish (services/closing.py); the notifications app
        # routes them to the project's channels.
        event_type("monitoring.canary_verdict", "A canary verdict", audience=("team", "operations"))
        event_type(
            "monitoring.results",
            "Results after the post-deploy window",
            audience=("team", "operations", "stakeholders"),
        )
        event_type(
            "monitoring.decision_needed",
            "A monitoring window waits for a decision",
            audience=("team", "operations"),
        )
        registry.release_hold(release_hold)
        registry.gate("monitoring_prechecks", order=80)(gates.prechecks_gate)
        registry.gate("monitoring_verified", order=25)(gates.verified_gate)
        registry.panel(
            key="monitoring",
            title="Monitoring",
            template="monitoring/partials/release_panel.html",
            context=monitoring_panel_context,
            order=40,
        )
        nav_item("Monitoring", "monitoring:index", order=40)
        schedule(celery_app)
