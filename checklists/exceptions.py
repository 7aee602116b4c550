"""Checklist errors. Each message is a sentence the person can act on."""

from core.exceptions import (
    Conflict,
    NotFound,
    PermissionDenied,
    TransitionNotAllowed,
    ValidationFailed,
)

__all__ = [
    "ChecklistClosed",
    "EvidenceInvalid",
    "EvidenceRequired",
    "GateAlreadyPassed",
    "NotFound",
    "PermissionDenied",
    "TemplateNotEditable",
    "TransitionNotAllowed",
]


class EvidenceRequired(ValidationFailed):
    code = "evidence_required"


class EvidenceInvalid(ValidationFailed):
    code = "evidence_invalid"


class GateAlreadyPassed(TransitionNotAllowed):
    """The release already went through the environment this step gates."""

    code = "gate_already_passed"


class ChecklistClosed(TransitionNotAllowed):
    code = "checklist_closed"


class TemplateNotEditable(Conflict):
    """Published versions are frozen: edit a draft and publish it as a new version."""

    code = "template_not_editable"
