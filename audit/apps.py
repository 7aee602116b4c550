from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        # signals: the SQLite guard function; tasks: the periodic checkpoint with beat.
        from audit import signals, tasks  # noqa: F401
        from audit.panels import audit_panel_context
        from audit.record_sections import register_builtin_sections
        from core.nav import nav_item
        from releases.registry import panel

        register_builtin_sections()
        nav_item("Audit", "audit:events", order=70)
        panel(
            key="audit",
            title="Audit trail and release record",
            template="audit/partials/release_panel.html",
            context=audit_panel_context,
            order=900,
        )
