from __future__ import annotations

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.utils.html import format_html

from core import labels
from core.markdown import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text):
    return render_markdown(text)


@register.simple_tag
def status_badge(value, label=None):
    """A coloured pill for any status value; colours live in static/css/app.css."""
    text = label if label is not None else str(value).replace("_", " ")
    return format_html('<span class="badge badge-{}">{}</span>', value, text)


@register.simple_tag(takes_context=True)
def query_replace(context, **kwargs):
    """The current query string with some parameters replaced (for pagination links)."""
    query = context["request"].GET.copy()
    for key, value in kwargs.items():
        if value in (None, ""):
            query.pop(key, None)
        else:
            query[key] = value
    return "?" + query.urlencode() if query else "?"


@register.filter
def get_item(mapping, key):
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def percent(part, whole):
    try:
        return int(round(100 * float(part) / float(whole))) if whole else 0
    except (TypeError, ValueError):
        return 0


from core.when import format_when  # noqa: E402 - kept beside the filters that use it


@register.filter
def when(value):
    """``<time>`` with the date, the time and the zone, e.g. 1 Dec 2026, 14:05 CET."""
    if value is None or value == "":
        return ""
    iso = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return format_html('<time datetime="{}">{}</time>', iso, format_when(value))


@register.filter
def ago(value):
    """How long ago (or from now), with the exact time and zone beside it on hover and for
    screen readers: ``3 minutes ago``."""
    if value is None or value == "":
        return ""
    iso = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>', iso, format_when(value), naturaltime(value)
    )


@register.filter
def role_label(value):
    """A project role as people say it: "product_owner" -> "Product owner".

    The labels are the ones ``projects`` registers (``core.labels``).
    """
    return labels.role_label(value)


@register.filter
def object_label(object_type):
    """An audited object's kind in words: "releases.deployment" -> "Deployment"."""
    from django.apps import apps

    try:
        model = apps.get_model(str(object_type))
    except (LookupError, ValueError):
        return str(object_type).rpartition(".")[2].replace("_", " ").capitalize()
    return str(model._meta.verbose_name).capitalize()
