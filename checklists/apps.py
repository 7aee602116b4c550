from django.apps import AppConfig


class ChecklistsConfig(AppConfig):
    name = "checklists"
    verbose_name = "Checklists"

    def ready(self) -> None:
        from checklists import integration
        from core.nav import nav_item
        from releases.registry import gate, on, panel

        on("release_created")(integration.copy_template_on_release_created)
        gate(integration.GATE_CODE, order=50)(integration.checklist_gate)
        panel(
            key="checklist",
            title="Checklist",
            template="checklists/partials/panel.html",
            context=integration.panel_context,
            order=20,
        )
        nav_item("My items", "checklists:my_items", order=30)
        # One entry: both pages share the "checklists" namespace the nav highlights by. The
        # template pages are linked from "My items" and from each checklist's header.
