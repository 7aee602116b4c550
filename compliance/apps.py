from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    """The auditors' reports: the trail browser, the release record and the release history.

    The top of the layers (docs/architecture.md): it reads every app, and no app imports it,
    so the release page's audit panel and the top bar's entry are registered from here.
    """

    name = "compliance"
    verbose_name = "Compliance reports"

    def ready(self) -> None:
        from compliance.panels import audit_panel_context
        from compliance.record_sections import register_builtin_sections
        from core.nav import nav_item
        from releases.registry import panel

        register_builtin_sections()
        nav_item("Audit", "audit:events", order=70)
        panel(
            key="audit",
            title="Audit trail and release record",
            template="compliance/partials/release_panel.html",
            context=audit_panel_context,
            order=900,
        )
