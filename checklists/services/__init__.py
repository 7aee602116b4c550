"""Every write to checklists: a release's checklist and its items, and the templates.

Each service checks who is asking, changes rows in one short transaction,
writes its audit event in that transaction and returns the changed object.

- ``checklist``: a release's checklist copied from a template, steps appended.
- ``items``: ticking, unticking, not applicable, ad-hoc items, a step's output.
- ``templates``: creating and describing templates; drafts started, discarded, published.
- ``template_drafts``: editing a draft's steps and items.

Every public name is importable from ``checklists.services`` itself.
"""

from checklists.services.checklist import (
    checklist_append_template,
    checklist_copy,
    checklist_start,
)
from checklists.services.common import (
    EVIDENCE_MAX_LENGTH,
    EVIDENCE_TEXT_MAX_LENGTH,
    NOTE_MAX_LENGTH,
    REASON_MAX_LENGTH,
    evidence_clean,
)
from checklists.services.items import (
    item_add,
    item_add_authorize,
    item_mark_not_applicable,
    item_tick,
    item_untick,
    step_record_output,
)
from checklists.services.template_drafts import (
    template_item_add,
    template_item_delete,
    template_item_move,
    template_item_update,
    template_step_add,
    template_step_delete,
    template_step_move,
    template_step_update,
)
from checklists.services.templates import (
    ITEM_FIELDS,
    STEP_FIELDS,
    template_create,
    template_draft_discard,
    template_draft_start,
    template_edit_authorize,
    template_publish,
    template_update,
)
from checklists.template_content import (
    content_hash,
    shipped_templates_install,
    version_content,
)

__all__ = [
    "EVIDENCE_MAX_LENGTH",
    "EVIDENCE_TEXT_MAX_LENGTH",
    "ITEM_FIELDS",
    "NOTE_MAX_LENGTH",
    "REASON_MAX_LENGTH",
    "STEP_FIELDS",
    "checklist_append_template",
    "checklist_copy",
    "checklist_start",
    "content_hash",
    "evidence_clean",
    "item_add",
    "item_add_authorize",
    "item_mark_not_applicable",
    "item_tick",
    "item_untick",
    "shipped_templates_install",
    "step_record_output",
    "template_create",
    "template_draft_discard",
    "template_draft_start",
    "template_edit_authorize",
    "template_item_add",
    "template_item_delete",
    "template_item_move",
    "template_item_update",
    "template_publish",
    "template_step_add",
    "template_step_delete",
    "template_step_move",
    "template_step_update",
    "template_update",
    "version_content",
]
