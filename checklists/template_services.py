"""The template services' former home, kept so that older imports keep working.

The template writes now live in ``checklists.services`` (``templates`` and
``template_drafts``) and the shipped templates' installation in
``checklists.template_content``; new code imports them from there.
"""

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
from checklists.template_content import content_hash, shipped_templates_install, version_content

__all__ = [
    "ITEM_FIELDS",
    "STEP_FIELDS",
    "content_hash",
    "shipped_templates_install",
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
