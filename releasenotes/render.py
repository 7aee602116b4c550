"""Markdown documents made from notes: one release's, an environment's accumulation, CHANGELOG.md.

Pure functions over what the selectors loaded; every document is Markdown, the HTML
forms are ``core.markdown.render_markdown`` of it (sanitised like every user text).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from releasenotes.parsing import Entry, entries_changelog, entries_markdown, md_escape


def entries_of(data: Sequence[dict]) -> list[Entry]:
    return [Entry.from_dict(item) for item in data]


def release_heading(*, project: str, version: str, title: str) -> str:
    return f"{md_escape(project)} {md_escape(version)}: {md_escape(title)}"


def notes_compose(*, heading: str, written: str, entries: Sequence[Entry], level: int = 1) -> str:
    """A release's notes: its heading, the person's part as they wrote it, then the generated part."""
    parts = [f"{'#' * level} {heading}"]
    if written.strip():
        parts.append(written.strip())
    parts.append(entries_markdown(entries, level=level + 1))
    return "\n\n".join(parts) + "\n"


@dataclass
class CoveredRelease:
    """One release an environment's notes cover: its published notes, else its draft, else nothing."""

    version: str
    title: str
    written: str
    entries: list[Entry]
    state: str  # "published" (with ``number``), "draft" or "none"
    number: int | None = None


def environment_compose(
    *,
    project: str,
    environment: str,
    target: str,
    since: str | None,
    covered: Sequence[CoveredRelease],
) -> str:
    """The notes for deploying ``target`` to ``environment``: every release since ``since``."""
    if since:
        intro = f"What changes in {md_escape(environment)} when {md_escape(target)} replaces {md_escape(since)}"
    else:
        intro = f"What {md_escape(environment)} receives with {md_escape(target)} (nothing was deployed there before)"
    versions = ", ".join(md_escape(c.version) for c in covered)
    parts = [
        f"# {md_escape(project)}: {md_escape(environment)} notes for {md_escape(target)}",
        f"{intro}; covers {versions or 'no release'}.",
    ]
    for c in covered:
        heading = f"{md_escape(c.version)}: {md_escape(c.title)}"
        if c.state == "none":
            parts.append(f"## {heading}\n\n_No notes were written for this release._")
            continue
        if c.state == "draft":
            heading += " (draft, not yet published)"
        else:
            heading += f" (version {c.number})"
        parts.append(
            notes_compose(heading=heading, written=c.written, entries=c.entries, level=2).strip()
        )
    return "\n\n".join(parts) + "\n"


@dataclass
class ChangelogRelease:
    version: str
    day: date
    written: str
    entries: list[Entry]
    yanked: bool = False


KEEP_A_CHANGELOG_URL = "https://keepachangelog.com/en/1.1.0/"


def changelog_compose(*, project: str, releases: Sequence[ChangelogRelease]) -> str:
    """CHANGELOG.md in the Keep a Changelog layout, newest release first."""
    parts = [
        "# Changelog",
        f"All notable changes to {md_escape(project)} are documented in this file.",
        f"The format is based on [Keep a Changelog]({KEEP_A_CHANGELOG_URL}); the sections of each "
        "version come from its published release notes.",
    ]
    if not releases:
        parts.append("_No release notes are published yet._")
    for r in releases:
        head = f"## [{md_escape(r.version)}] - {r.day.isoformat()}"
        if r.yanked:
            head += " [YANKED]"
        block = [head]
        if r.written.strip():
            block.append(r.written.strip())
        body = entries_changelog(r.entries)
        if body:
            block.append(body)
        parts.append("\n\n".join(block))
    return "\n\n".join(parts) + "\n"
