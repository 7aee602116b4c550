"""The release-notes section: every published version of the notes, who published it, its sha256."""

from __future__ import annotations

from compliance.record import RecordContext, Section, Table
from compliance.record_sections.common import app_missing, optional_model, person_name


def release_notes_section(release, ctx: RecordContext) -> Section:
    NotesVersion = optional_model("releasenotes", "NotesVersion")
    if NotesVersion is None:
        return app_missing("release_notes", "Release notes", "releasenotes")
    section = Section("release_notes", "Release notes")
    versions = list(
        NotesVersion.objects.filter(release=release)
        .select_related("published_by")
        .order_by("number")
    )
    if not versions:
        section.notes.append("No version of the release notes was published.")
        return section
    section.facts = [("Versions published", str(len(versions)))]
    section.tables.append(
        Table(
            "Published versions",
            [("number", "Version"), ("at", "Published"), ("by", "By"), ("sha256", "sha256")],
            [
                {
                    "number": v.number,
                    "at": v.published_at,
                    "by": person_name(v.published_by, v.published_by_label),
                    "sha256": v.digest,
                }
                for v in versions
            ],
        )
    )
    section.notes.append(
        "The latest version's Markdown is the release's notes in the summary above; "
        "each version's sha256 is also in its releasenotes.published audit event."
    )
    return section
