from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "approvals"
    verbose_name = "Approvals, sign-offs and go/no-go"

    def ready(self) -> None:
        from approvals import (  # noqa: F401 - register gates, waivers and listeners
            gates,
            listeners,
            urgent,  # noqa: F401 - registers the overdue-review banner
        )
        from approvals.panels import approvals_panel_context
        from core.nav import nav_item
        from releases.registry import panel

        panel(
            key="approvals",
            title="Approvals and go/no-go",
            template="approvals/partials/panel.html",
            context=approvals_panel_context,
            order=30,
        )
        nav_item(
            "Waiting for me", "approvals:inbox", order=25, badge_url_name="approvals:inbox-count"
        )
