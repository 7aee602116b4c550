"""Commits and tickets to grouped release-note entries: pure Python, no database.

``notes_build(commits, tickets, tracker_template)`` is the whole pipeline:

1. each commit message is parsed (``commit_parse``): a Conventional Commits
   header ``type(scope)!: description``, its footers (``BREAKING CHANGE:`` or
   ``BREAKING-CHANGE:``, GitLab's ``Changelog:`` trailer, ``Refs:`` …) and the
   ticket keys it mentions;
2. reverts are paired with the commit they revert when both are in the range,
   and both are dropped (newest first, so a revert of a revert restores the
   original commit);
3. every remaining commit becomes one entry in one group, decided in this
   order: breaking (``!`` or a breaking footer) → *Breaking changes*; else a
   ``Changelog:`` trailer; else the header's type; else *Other*;
4. tickets no commit mentions become entries of their own (in *Other*: the
   ticket model carries no type), and every ticket gets its link: the URL the
   ticket came with, else the project's tracker template with ``{key}`` filled in.

The groups and their order are ``GROUPS``; the kind each entry keeps (``added``,
``fixed`` …) is GitLab's vocabulary, which the CHANGELOG.md sections use.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import quote

# The groups in the order the notes show them.
BREAKING = "Breaking changes"
NEW = "New"
IMPROVED = "Improved"
FIXED = "Fixed"
PERFORMANCE = "Performance"
SECURITY = "Security"
DEPRECATIONS = "Deprecations"
OTHER = "Other"
GROUPS = (BREAKING, NEW, IMPROVED, FIXED, PERFORMANCE, SECURITY, DEPRECATIONS, OTHER)

# GitLab's ``Changelog:`` trailer values (docs.gitlab.com, "Changelog entries"), and the group
# each lands in. A removal takes something away from whoever used it, so it reads as breaking.
TRAILER_KINDS: dict[str, str] = {
    "added": NEW,
    "fixed": FIXED,
    "changed": IMPROVED,
    "deprecated": DEPRECATIONS,
    "removed": BREAKING,
    "security": SECURITY,
    "performance": PERFORMANCE,
    "other": OTHER,
}

# Conventional Commits types (and the common synonyms) → (kind, group). A type not listed,
# such as docs, test, chore, ci, build or style, is kept in Other.
TYPE_KINDS: dict[str, tuple[str, str]] = {
    "feat": ("added", NEW),
    "feature": ("added", NEW),
    "fix": ("fixed", FIXED),
    "bugfix": ("fixed", FIXED),
    "perf": ("performance", PERFORMANCE),
    "refactor": ("changed", IMPROVED),
    "improve": ("changed", IMPROVED),
    "improvement": ("changed", IMPROVED),
    "change": ("changed", IMPROVED),
    "security": ("security", SECURITY),
    "sec": ("security", SECURITY),
    "deprecate": ("deprecated", DEPRECATIONS),
    "deprecation": ("deprecated", DEPRECATIONS),
    "revert": ("other", OTHER),
}

_HEADER = re.compile(
    r"^(?P<type>[A-Za-z][A-Za-z0-9_-]*)(?:\((?P<scope>[^()\r\n]*)\))?(?P<bang>!)?: +(?P<desc>\S.*)$"
)
# A footer line: ``Token: value`` or ``Token #value``; the token may not hold spaces except
# the two breaking spellings.
_FOOTER = re.compile(
    r"^(?P<token>BREAKING[ -]CHANGE|[A-Za-z][A-Za-z0-9-]*)(?::[ \t]|[ \t]#)(?P<value>.*)$"
)
_REVERTS = re.compile(r"This reverts commit ([0-9a-fA-F]{7,64})")
_GIT_REVERT_HEADER = re.compile(r'^Revert "(?P<inner>.*)"$')
# JIRA-style keys (PAY-12, SF-101) and GitHub-style references (#42) in a message.
_TICKET_KEY = re.compile(r"\b[A-Z][A-Z0-9]{1,15}-\d{1,9}\b")
_MAX_MESSAGE = 20_000


@dataclass(frozen=True)
class ParsedCommit:
    sha: str
    header: str
    type: str  # "" for a header that is not conventional
    scope: str
    description: str
    breaking: bool
    breaking_note: str  # what the breaking footer says (how to upgrade), "" if none
    changelog: str  # the Changelog: trailer's value (lower case) when valid, else ""
    reverts: str  # the sha this commit reverts, "" if it is no revert
    ticket_keys: tuple[str, ...]
    footers: tuple[tuple[str, str], ...] = ()

    @property
    def conventional(self) -> bool:
        return bool(self.type)


@dataclass
class TicketRef:
    key: str
    title: str = ""
    url: str = ""
    type: str = ""


# A ticket that no commit mentions goes where its tracker type says (lower case, spaces and
# dashes ignored); an unknown or missing type goes under Other.
TICKET_TYPE_GROUPS = {
    **dict.fromkeys(("bug", "defect", "incident", "problem", "fix", "hotfix"), FIXED),
    **dict.fromkeys(("feature", "newfeature", "story", "userstory", "epic", "new"), NEW),
    **dict.fromkeys(("improvement", "enhancement", "change", "task", "refactor"), IMPROVED),
    **dict.fromkeys(("security", "vulnerability"), SECURITY),
    **dict.fromkeys(("performance", "perf"), PERFORMANCE),
    **dict.fromkeys(("deprecation", "deprecated", "removal"), DEPRECATIONS),
    **dict.fromkeys(("breaking", "breakingchange"), BREAKING),
}


# The Keep a Changelog kind of a ticket's line, from its group.
_GROUP_KINDS = {
    NEW: "added",
    IMPROVED: "changed",
    BREAKING: "changed",
    FIXED: "fixed",
    SECURITY: "security",
    PERFORMANCE: "performance",
    DEPRECATIONS: "deprecated",
}


def ticket_group(ticket_type: str) -> str:
    """The group of a ticket by its tracker type ("Bug" → Fixed, "Story" → New …)."""
    normal = "".join(ch for ch in ticket_type.lower() if ch.isalnum())
    return TICKET_TYPE_GROUPS.get(normal, OTHER)


@dataclass
class Entry:
    """One line of the notes: a change (from a commit) or a ticket no commit mentions."""

    group: str
    kind: str
    description: str
    scope: str = ""
    shas: list[str] = field(default_factory=list)
    tickets: list[TicketRef] = field(default_factory=list)
    upgrade: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Entry:
        return cls(
            group=str(data.get("group", OTHER)),
            kind=str(data.get("kind", "other")),
            description=str(data.get("description", "")),
            scope=str(data.get("scope", "")),
            shas=[str(s) for s in data.get("shas", [])],
            tickets=[TicketRef(**t) for t in data.get("tickets", [])],
            upgrade=str(data.get("upgrade", "")),
        )


def _split_footers(lines: list[str]) -> list[tuple[str, str]]:
    """The footers of the message's last paragraph, continuation lines joined to their footer."""
    # The last paragraph holds footers only if its first line is one.
    while lines and not lines[-1].strip():
        lines.pop()
    start = len(lines)
    while start > 0 and lines[start - 1].strip():
        start -= 1
    paragraph = lines[start:]
    if not paragraph or not _FOOTER.match(paragraph[0]):
        return []
    footers: list[tuple[str, str]] = []
    for line in paragraph:
        match = _FOOTER.match(line)
        if match:
            footers.append((match["token"], match["value"].strip()))
        elif footers:
            token, value = footers[-1]
            footers[-1] = (token, (value + "\n" + line.strip()).strip())
    return footers


def commit_parse(sha: str, message: str) -> ParsedCommit:
    """Read one commit message (never raises: anything unexpected is a plain, unconventional one)."""
    text = (message or "")[:_MAX_MESSAGE].replace("\r\n", "\n")
    lines = text.split("\n")
    header = lines[0].strip() if lines else ""
    body_lines = lines[1:]
    footers = _split_footers(list(body_lines))
    match = _HEADER.match(header)
    type_ = scope = ""
    description = header
    bang = False
    if match:
        type_ = match["type"].lower()
        scope = (match["scope"] or "").strip()
        description = match["desc"].strip()
        bang = bool(match["bang"])
    breaking_notes = [v for t, v in footers if t in ("BREAKING CHANGE", "BREAKING-CHANGE")]
    changelog = ""
    for token, value in footers:
        if token.lower() == "changelog" and value.strip().lower() in TRAILER_KINDS:
            changelog = value.strip().lower()
    reverts = ""
    found = _REVERTS.search(text)
    git_revert = _GIT_REVERT_HEADER.match(header)
    if found and (type_ == "revert" or git_revert):
        reverts = found.group(1).lower()
    if git_revert and not match:
        description = header
    keys = tuple(dict.fromkeys(_TICKET_KEY.findall(text)))
    return ParsedCommit(
        sha=sha,
        header=header,
        type=type_,
        scope=scope,
        description=description,
        breaking=bang or bool(breaking_notes),
        breaking_note="\n".join(breaking_notes).strip(),
        changelog=changelog,
        reverts=reverts,
        ticket_keys=keys,
        footers=tuple(footers),
    )


def commit_group(commit: ParsedCommit) -> tuple[str, str]:
    """(kind, group) of one parsed commit: breaking, then the trailer, then the type, then Other."""
    if commit.changelog:
        kind = commit.changelog
    elif commit.type in TYPE_KINDS:
        kind = TYPE_KINDS[commit.type][0]
    else:
        kind = "other"
    if commit.breaking:
        return kind, BREAKING
    if commit.changelog:
        return kind, TRAILER_KINDS[commit.changelog]
    if commit.type in TYPE_KINDS:
        return TYPE_KINDS[commit.type]
    return "other", OTHER


def reverts_pair(commits: Sequence[ParsedCommit]) -> set[str]:
    """The shas to drop: each revert whose reverted commit is in ``commits``, and that commit.

    ``commits`` in git log's order (newest first); the newest revert pairs first, so
    reverting a revert brings the original back.
    """
    dropped: set[str] = set()
    # Shas by their first 7 digits (the shortest a revert may name), so each lookup is short.
    by_prefix: dict[str, list[ParsedCommit]] = {}
    for candidate in commits:
        by_prefix.setdefault(candidate.sha[:7].lower(), []).append(candidate)

    def find(prefix: str) -> ParsedCommit | None:
        for candidate in by_prefix.get(prefix[:7], ()):
            if candidate.sha.lower().startswith(prefix) and candidate.sha not in dropped:
                return candidate
        return None

    for commit in commits:
        if not commit.reverts or commit.sha in dropped:
            continue
        target = find(commit.reverts)
        if target is not None and target.sha != commit.sha:
            dropped.update({commit.sha, target.sha})
    return dropped


def ticket_link(key: str, url: str, template: str) -> str:
    """The ticket's own URL, else the project's tracker template with the key filled in."""
    if url:
        return url
    if template and "{key}" in template:
        return template.replace("{key}", quote(key, safe=""))
    return ""


def notes_build(
    commits: Iterable[tuple[str, str]],
    tickets: Iterable[Mapping[str, Any]] = (),
    tracker_template: str = "",
) -> list[Entry]:
    """Entries for ``commits`` ((sha, message), newest first) and ``tickets`` (key, title, url,
    type); a ticket no commit mentions goes where its type says (``ticket_group``).

    Entries come grouped in ``GROUPS`` order and, inside a group, oldest first (the order
    the work landed).
    """
    parsed = [commit_parse(sha, message) for sha, message in commits]
    dropped = reverts_pair(parsed)
    known = {
        str(t["key"]): TicketRef(
            key=str(t["key"]),
            title=str(t.get("title") or ""),
            url=ticket_link(str(t["key"]), str(t.get("url") or ""), tracker_template),
            type=str(t.get("type") or ""),
        )
        for t in tickets
    }
    mentioned: set[str] = set()
    entries: list[Entry] = []
    for commit in reversed(parsed):
        if commit.sha in dropped:
            continue
        kind, group = commit_group(commit)
        refs = []
        description = commit.description
        for key in commit.ticket_keys:
            if key in known:
                refs.append(known[key])
                mentioned.add(key)
                # The link follows the line; the key need not be in the sentence as well.
                description = _strip_key(description, key)
        entries.append(
            Entry(
                group=group,
                kind=kind,
                description=_clean(description),
                scope=commit.scope,
                shas=[commit.sha],
                tickets=refs,
                upgrade=commit.breaking_note,
            )
        )
    for key, ref in known.items():
        if key not in mentioned:
            entries.append(
                Entry(
                    group=ticket_group(ref.type),
                    kind=_GROUP_KINDS.get(ticket_group(ref.type), "other"),
                    description=ref.title or key,
                    tickets=[ref],
                )
            )
    order = {name: i for i, name in enumerate(GROUPS)}
    entries.sort(key=lambda e: order.get(e.group, len(GROUPS)))
    return entries


def _strip_key(description: str, key: str) -> str:
    """``description`` without ``(KEY)``, ``[KEY]`` or a leading ``KEY:``; unchanged if that empties it."""
    k = re.escape(key)
    text = re.sub(rf"\s*[(\[]{k}[)\]]", "", description)
    text = re.sub(rf"^{k}\s*[:-]?\s+", "", text)
    return text if text.strip() else description


def _clean(description: str) -> str:
    """A header's description as a sentence: first letter up, trailing full stop dropped."""
    text = description.strip().rstrip(".")
    return text[:1].upper() + text[1:] if text else "(no description)"


# --- Markdown -----------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")


def md_escape(text: str) -> str:
    """Text from a commit or a ticket, shown literally in Markdown (no links, no HTML)."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def entry_markdown(entry: Entry) -> str:
    scope = f"**{md_escape(entry.scope)}:** " if entry.scope else ""
    line = f"- {scope}{md_escape(entry.description)}"
    refs = []
    for ticket in entry.tickets:
        label = md_escape(ticket.key)
        url = ticket.url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
        refs.append(f"[{label}]({url})" if url else label)
    if refs:
        line += " (" + ", ".join(refs) + ")"
    if entry.shas:
        line += " " + " ".join(f"`{sha[:7]}`" for sha in entry.shas)
    return line


def entries_markdown(entries: Sequence[Entry], *, level: int = 2) -> str:
    """The grouped sections (``level`` is the heading depth of a group) and the upgrade steps."""
    hashes = "#" * level
    parts: list[str] = []
    for group in GROUPS:
        lines = [entry_markdown(e) for e in entries if e.group == group]
        if lines:
            parts.append(f"{hashes} {group}\n\n" + "\n".join(lines))
    steps = [e for e in entries if e.group == BREAKING and e.upgrade]
    if steps:
        lines = []
        for e in steps:
            what = f"{e.scope}: {e.description}" if e.scope else e.description
            how = md_escape(e.upgrade).replace("\n", "\n  ")
            lines.append(f"- **{md_escape(what)}**: {how}")
        parts.append(f"{hashes} Upgrade instructions\n\n" + "\n".join(lines))
    if not parts:
        return "_No changes recorded: this release has no commits or tickets yet._"
    return "\n\n".join(parts)


# Keep a Changelog's section names (keepachangelog.com 1.1.0) for each entry kind.
CHANGELOG_SECTIONS: dict[str, str] = {
    "added": "Added",
    "changed": "Changed",
    "performance": "Changed",
    "deprecated": "Deprecated",
    "removed": "Removed",
    "fixed": "Fixed",
    "security": "Security",
    "other": "Changed",
}
CHANGELOG_ORDER = ("Added", "Changed", "Deprecated", "Removed", "Fixed", "Security")


def entries_changelog(entries: Sequence[Entry]) -> str:
    """One release's sections in Keep a Changelog's vocabulary; breaking lines say so."""
    parts = []
    for section in CHANGELOG_ORDER:
        lines = []
        for e in entries:
            if CHANGELOG_SECTIONS.get(e.kind, "Changed") != section:
                continue
            line = entry_markdown(e)
            if e.group == BREAKING:
                line = "- **Breaking:** " + line[2:]
            lines.append(line)
        if lines:
            parts.append(f"### {section}\n\n" + "\n".join(lines))
    return "\n\n".join(parts)
