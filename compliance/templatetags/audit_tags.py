from django import template
from django.utils.html import format_html

from compliance.record import display

register = template.Library()


@register.filter
def record_cell(value):
    """A release-record cell as text; web links (evidence, tickets) stay clickable, Markdown renders."""
    from compliance.record import Markdown

    if isinstance(value, Markdown) and value.strip():
        from core.markdown import render_markdown

        return format_html('<div class="markdown">{}</div>', render_markdown(value))
    text = display(value)
    if isinstance(value, str) and value.startswith(("https://", "http://")) and " " not in value:
        return format_html(
            '<a href="{}" rel="noopener noreferrer" target="_blank">{}</a>', value, text
        )
    return text


@register.filter
def cell_of(row, key):
    try:
        return row.get(key)
    except AttributeError:
        return None
