"""How release notes plug into the release page (registered from ``ReleaseNotesConfig.ready``)."""

from __future__ import annotations

import difflib

from releasenotes.selectors import notes_panel

# Lines of the regeneration's difference shown at most (the download has the whole text).
DIFF_MAX_LINES = 400


def generated_diff(before: str, after: str) -> list[dict[str, str]]:
    """A unified difference of two generated texts, each line tagged add / del / meta / same."""
    lines = []
    for line in difflib.unified_diff(
        before.splitlines(), after.splitlines(), "before", "after", lineterm="", n=1
    ):
        if line.startswith(("---", "+++", "@@")):
            kind = "meta"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        else:
            kind = "same"
        lines.append({"kind": kind, "text": line})
        if len(lines) >= DIFF_MAX_LINES:
            break
    return lines


def panel_context(release, request) -> dict:
    """The notes section of the release page: a fixed number of queries."""
    notes = notes_panel(release=release, user=request.user)
    draft = notes.draft
    diff = []
    if (
        draft is not None
        and draft.previous_generated
        and draft.previous_generated != draft.generated
    ):
        diff = generated_diff(draft.previous_generated, draft.generated)
    return {"notes": notes, "draft_diff": diff}
