"""Deploy windows, change freezes, scheduled deployments, the promotion queue and the iCalendar feed (docs/calendar.md)."""

from django.apps import AppConfig


class DeployCalendarConfig(AppConfig):
    name = "deploycalendar"
    verbose_name = "Release calendar"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.events import event_type
        from core.nav import nav_item
        from deploycalendar import (  # noqa: F401 - register the gate, waiver, listener, beat tasks
            gates,
            listeners,
            panels,
            tasks,
        )
        from deploycalendar.panels import calendar_panel_context
        from releases.registry import panel

        event_type(
            "calendar.override",
            "A freeze or deploy window was overridden",
            description="Someone let one release into one environment through its windows and freezes.",
            audience=("team",),
        )
        event_type(
            "calendar.queue_started",
            "A queued promotion started",
            description="The window opened and a queued promotion started by itself.",
            audience=("team",),
        )
        event_type(
            "calendar.queue_failed",
            "A queued promotion did not start",
            description="The window opened but another gate was closed.",
            audience=("team",),
        )
        nav_item("Calendar", "deploycalendar:calendar", order=45)
        event_type(
            "calendar.freeze_violation",
            "A deployment was reported during a freeze",
            description="A pipeline reported a deployment into a frozen environment.",
            audience=("team", "operations"),
        )
        event_type(
            "calendar.reminder",
            "A production deployment is planned within 24 hours",
            description="Sent once, a day before a release's planned production deployment.",
            audience=("team",),
        )
        panel(
            key="deploycalendar",
            title="Deploy windows and freezes",
            template="deploycalendar/partials/panel.html",
            context=calendar_panel_context,
            order=35,
        )
