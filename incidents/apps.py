"""Incidents tied to releases, status updates, post-mortems with action items, closing a release (docs/incidents.md)."""

from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from celery import current_app as celery_app

        from core.events import event_type
        from core.nav import nav_item, project_link
        from incidents import hooks
        from incidents.tasks import schedule
        from releases import registry

        registry.on("deployment_changed")(hooks.on_deployment_changed)
        registry.urgent_source(order=60)(hooks.incidents_urgent)
        registry.waiting_source(hooks.incidents_waiting)
        registry.panel(
            key="incidents",
            title="Incidents and closing",
            template="incidents/partials/release_panel.html",
            context=hooks.release_panel_context,
            order=60,
        )
        nav_item("Incidents", "incidents:list", order=45)
        project_link(
            "Incident settings",
            "incidents:settings",
            order=60,
            description="The status-update template and how often updates are due.",
            admin_only=False,
        )
        schedule(celery_app)

        event_type(
            "incidents.opened",
            "An incident was opened",
            description="Someone (or an alerting tool) opened an incident in the project.",
            audience=("team", "operations"),
        )
        event_type(
            "incidents.update",
            "An incident status update",
            description="The status update written from the project's template.",
            audience=("team", "operations", "stakeholders"),
        )
        event_type(
            "incidents.resolved",
            "An incident was resolved",
            audience=("team", "operations", "stakeholders"),
        )
        event_type(
            "incidents.update_overdue",
            "An incident update is overdue",
            description="Tells the commander that a SEV1/SEV2 incident owes a status update.",
            audience=("operations",),
        )
        event_type(
            "incidents.release_results",
            "A release's results on production",
            description="QA's confirmations of a release's tickets on production, sent on closing.",
            audience=("stakeholders", "qa", "team"),
        )
        event_type(
            "incidents.action_items_overdue",
            "Post-mortem action items are overdue",
            audience=("team",),
        )
