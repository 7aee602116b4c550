"""Feature flags, gradual rollout plans gated by monitoring, OFREP and the Unleash client API (docs/flags.md)."""

from django.apps import AppConfig


class FlagsConfig(AppConfig):
    name = "flags"
    verbose_name = "Feature flags"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from celery import current_app as celery_app

        from core.events import event_type
        from core.nav import project_link
        from flags.panels import flags_panel_context, monitoring_section
        from flags.tasks import schedule
        from monitoring.registry import overview_section
        from releases import registry

        event_type(
            "flags.plan_paused",
            "Flag rollout paused",
            description="A step of a flag's rollout failed its checks, or the flag changed outside "
            "Shipcheck; the rollout stopped.",
            audience=("team", "operations"),
        )
        event_type(
            "flags.plan_waiting",
            "Flag rollout waits for a person",
            description="A rollout step passed (a person advances) or was inconclusive.",
            audience=("team",),
        )
        event_type(
            "flags.plan_completed",
            "Flag rollout completed",
            description="A flag reached 100 % at the end of its rollout plan.",
            audience=("team", "stakeholders"),
        )
        registry.panel(
            key="flags",
            title="Feature-flag rollouts",
            template="flags/partials/release_panel.html",
            context=flags_panel_context,
            order=45,
        )
        project_link(
            "Feature flags",
            "flags:index",
            order=60,
            description="Flags per environment, their rollout and SDK keys.",
            admin_only=False,
        )
        overview_section(monitoring_section)
        schedule(celery_app)
