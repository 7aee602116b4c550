"""The DORA metrics and the release KPIs computed from Shipcheck's own records (docs/metrics.md)."""

from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "metrics"
    verbose_name = "Delivery metrics"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from core.nav import nav_item, project_link
        from metrics import firsts
        from metrics.panels import delivery_panel_context
        from metrics.sql import register_sqlite_functions
        from releases.registry import on, panel

        on("deployment_changed")(firsts.on_deployment_changed)
        on("commits_changed")(firsts.on_commits_changed)
        connection_created.connect(register_sqlite_functions, dispatch_uid="metrics-sqlite")
        nav_item("Metrics", "metrics:dashboard", order=65)
        project_link(
            "Delivery metrics",
            "metrics:project",
            order=80,
            description="DORA metrics and release KPIs of this project.",
            admin_only=False,
        )
        project_link(
            "Metrics settings",
            "metrics:settings",
            order=81,
            description="Whether a hotfix counts as rework.",
        )
        panel(
            key="delivery",
            title="Compared with the previous release",
            template="metrics/partials/release_panel.html",
            context=delivery_panel_context,
            order=850,
        )
