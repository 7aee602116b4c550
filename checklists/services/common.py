"""What every checklist write checks first: who is asking, the release's state, clean text."""

from __future__ import annotations

import re
from typing import cast

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from checklists.exceptions import ChecklistClosed, EvidenceInvalid
from checklists.permissions import can_manage_checklist, manager_refusal, people_only_refusal
from core.exceptions import NotFound, ValidationFailed
from projects.permissions import can_view_project, is_person
from projects.principals import Caller, is_token
from releases.choices import ReleaseStatus
from releases.models import Release

# Evidence is a link or a short reference; longer material belongs behind a link.
EVIDENCE_MAX_LENGTH = 500
EVIDENCE_TEXT_MAX_LENGTH = 200
NOTE_MAX_LENGTH = 2000
REASON_MAX_LENGTH = 2000
# "scheme:" followed by "//", or a scheme browsers would run, makes evidence a link.
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):", re.IGNORECASE)
_DANGEROUS_SCHEMES = frozenset({"javascript", "data", "vbscript", "file"})
_URL = URLValidator(schemes=["http", "https"])


def person_or_none(actor: Caller | None) -> User | None:
    """The person behind ``actor`` for a ``created_by`` column; None for tokens and nobody."""
    return cast(User, actor) if is_person(actor) and getattr(actor, "pk", None) else None


def text_clean(value: object, field: str, max_length: int) -> str:
    """``value`` as stripped text, refused (400) with a NUL character or over ``max_length``."""
    value = "" if value is None else str(value)
    if "\x00" in value:
        raise ValidationFailed(
            f"{field} contains a NUL character, which is not allowed.",
            details={field.lower(): ["Remove the NUL character."]},
        )
    value = value.strip()
    if len(value) > max_length:
        raise ValidationFailed(
            f"{field} is longer than {max_length} characters.",
            details={field.lower(): [f"At most {max_length} characters."]},
        )
    return value


def evidence_clean(value: object) -> str:
    """Return normalised evidence, or raise ``EvidenceInvalid`` with a sentence saying what to fix.

    A value that looks like a link must be an http(s) URL; anything else is a
    short, single-line reference such as ``CI run 4411``.
    """
    value = text_clean(value, "Evidence", EVIDENCE_MAX_LENGTH)
    if not value:
        return ""
    if any(ch in value for ch in "\r\n\t") or any(ord(ch) < 32 for ch in value):
        raise EvidenceInvalid(
            "Evidence must be a single line: a link or a short reference.",
            details={"evidence": ["Use a single line."]},
        )
    match = _SCHEME.match(value)
    scheme = match.group(1).lower() if match else ""
    if match and (value[match.end() :].startswith("//") or scheme in _DANGEROUS_SCHEMES):
        if scheme not in ("http", "https"):
            raise EvidenceInvalid(
                f"Evidence links must start with http:// or https:// (got '{scheme[:20]}:').",
                details={"evidence": ["Only http:// and https:// links are accepted."]},
            )
        value = scheme + value[len(scheme) :]
        try:
            _URL(value)
        except ValidationError:
            raise EvidenceInvalid(
                f"'{value[:80]}' is not a valid web address.",
                details={"evidence": ["Enter a complete http(s) link."]},
            ) from None
        return value
    if len(value) > EVIDENCE_TEXT_MAX_LENGTH:
        raise EvidenceInvalid(
            f"Evidence text is limited to {EVIDENCE_TEXT_MAX_LENGTH} characters; link to longer material instead.",
            details={"evidence": [f"At most {EVIDENCE_TEXT_MAX_LENGTH} characters, or a link."]},
        )
    return value


def check_can_see(actor: Caller, release: Release) -> None:
    if not can_view_project(actor, release.project_id):
        raise NotFound("No such checklist item.")


def check_person(actor: Caller, doing: str) -> None:
    if is_token(actor) or not is_person(actor):
        raise people_only_refusal(doing)


def check_manager(actor: Caller, release: Release, *, doing: str, what: str) -> None:
    """Release managers' and admins' changes: visible (404), a person, and the right role (403)."""
    check_can_see(actor, release)
    check_person(actor, doing)
    if not can_manage_checklist(actor, release):
        raise manager_refusal(what)


def check_open(release: Release) -> None:
    if release.status == ReleaseStatus.CANCELLED:
        raise ChecklistClosed("The release was cancelled, so its checklist is closed.")
