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
        from core.events import event_type
        from core.nav import nav_item
        from releases.registry import panel

        # Announced with core.events.publish (the notifications app routes them to channels).
        event_type("approvals.requested", "An approval was requested", audience=("team",))
        event_type("approvals.decided", "An approval was given or refused", audience=("team", "qa"))
        event_type(
            "approvals.emergency",
            "An emergency approval let a hotfix skip staging",
            audience=("team", "operations", "stakeholders"),
        )
        event_type(
            "approvals.go_no_go_decided",
            "A go/no-go meeting decided",
            audience=("team", "qa", "operations", "stakeholders"),
        )

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
