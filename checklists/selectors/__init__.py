"""Reads: a release's checklist as the page shows it, my open items, templates.

Every reader narrows to what the caller may see; missing and invisible both
raise ``NotFound``. The checklist board loads in a fixed number of queries
whatever the size of the checklist (the release page asserts it).

- ``templates``: the default template for a new release, template lists and versions.
- ``items``: the gates' steps, one item or step for a write, my open items.
- ``board``: the release's checklist as people see it.

Every public name is importable from ``checklists.selectors`` itself.
"""

from checklists.selectors.board import (
    ChecklistBoard,
    GateView,
    ItemView,
    StepView,
    checklist_board,
)
from checklists.selectors.common import GATE_PASSING_DEPLOYMENT_STATES
from checklists.selectors.items import (
    checklist_gate_steps,
    gate_passed_for_phase,
    item_get,
    missing_items,
    my_open_items,
    step_get,
)
from checklists.selectors.templates import (
    current_draft,
    latest_published,
    published_versions_for,
    template_default_for,
    template_get,
    template_item_get,
    template_list,
    template_step_get,
    template_versions_in_use,
    templates_queryset_for_api,
    version_get,
    version_steps,
)
from checklists.template_content import shipped_templates_ensure

__all__ = [
    "GATE_PASSING_DEPLOYMENT_STATES",
    "ChecklistBoard",
    "GateView",
    "ItemView",
    "StepView",
    "checklist_board",
    "checklist_gate_steps",
    "current_draft",
    "gate_passed_for_phase",
    "item_get",
    "latest_published",
    "missing_items",
    "my_open_items",
    "published_versions_for",
    "shipped_templates_ensure",
    "step_get",
    "template_default_for",
    "template_get",
    "template_item_get",
    "template_list",
    "template_step_get",
    "template_versions_in_use",
    "templates_queryset_for_api",
    "version_get",
    "version_steps",
]
