"""Release notes generated from a release's tickets and commits, edited, published as frozen versions, accumulated per environment (docs/release-notes.md)."""

from django.apps import AppConfig


class ReleaseNotesConfig(AppConfig):
    name = "releasenotes"
    verbose_name = "Release notes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from core.events import event_type
        from releasenotes import integration
        from releasenotes.services import PUBLISHED_EVENT
        from releases.registry import panel

        event_type(
            PUBLISHED_EVENT,
            "Release notes published",
            description="A version of a release's notes was published; the message carries the notes.",
            audience=("stakeholders",),
        )
        panel(
            key="notes",
            title="Release notes",
            template="releasenotes/partials/panel.html",
            context=integration.panel_context,
            order=15,
        )
