"""Render user Markdown to HTML that is safe to put in a page.

People paste release notes, rollback plans and checklist text from GitHub, so
the dialect is CommonMark with GitHub's tables, ~~strikethrough~~ and task
lists (markdown-it-py). Raw HTML in the source is never passed through: it is
shown as the text it is. nh3 then sanitises the result all the same, so a bug
in a renderer or a plugin cannot put a form control or a script in a page.
"""

from __future__ import annotations

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt
from mdit_py_plugins.tasklists import tasklists_plugin

_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "del",
    "s",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "li",
    "ol",
    "p",
    "pre",
    "strong",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
    "input",
}
_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "ol": {"start"},
    "input": {"type", "checked", "disabled"},
}
# The task-list plugin's classes, so the page can draw its checkboxes without bullets.
_CLASSES = {
    "ul": {"contains-task-list"},
    "ol": {"contains-task-list"},
    "li": {"task-list-item"},
    "input": {"task-list-item-checkbox"},
}
# Whatever reaches nh3, an <input> leaves it as a disabled checkbox: never a button,
# a text field or a submit control inside someone's release notes.
_FORCED = {"input": {"type": "checkbox", "disabled": "disabled"}}

_RENDERER = (
    MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    .enable(["table", "strikethrough"])
    .use(tasklists_plugin)
)


def render_markdown(text: str | None) -> SafeString:
    if not text:
        return mark_safe("")  # noqa: S308 - empty string
    html = _RENDERER.render(text)
    clean = nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        allowed_classes=_CLASSES,
        set_tag_attribute_values=_FORCED,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(clean)  # noqa: S308 - sanitised by nh3 just above
