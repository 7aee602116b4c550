"""Release notes from tickets and commits, subscribers and channels, the delivery outbox (docs/notifications.md, docs/release-notes.md)."""

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Release notes and notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from celery import current_app as celery_app

        from core.events import subscribe
        from core.nav import project_link
        from notifications import routing
        from notifications.panels import delivery_panel_context
        from notifications.tasks import schedule
        from releases import registry

        routing.declare()
        subscribe(routing.on_event)
        registry.on("deployment_changed")(routing.on_deployment_changed)
        registry.panel(
            key="notifications",
            title="Who was told",
            template="notifications/partials/release_panel.html",
            context=delivery_panel_context,
            order=90,
        )
        project_link(
            "Notifications",
            "notifications:settings",
            order=60,
            description="Subscriber groups, channels, message templates and the delivery log.",
            admin_only=False,
        )
        project_link(
            "My notification preferences",
            "notifications:preferences",
            order=61,
            description="Which events you hear, how, and when.",
            admin_only=False,
        )
        schedule(celery_app)
