"""How metric values read on the pages: durations in words, rates with their unit."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import template

register = template.Library()


@register.filter
def span(seconds: Any) -> str:
    """3725 -> '1 h 2 min'; under a minute in seconds; '—' without a value."""
    if seconds is None or seconds == "":
        return "—"
    value = float(seconds)
    sign = "-" if value < 0 else ""
    value = abs(value)
    if value < 60:
        return f"{sign}{value:.0f} s"
    minutes = value / 60
    if minutes < 60:
        return f"{sign}{minutes:.0f} min"
    hours = minutes / 60
    if hours < 48:
        whole = int(hours)
        rest = round((hours - whole) * 60)
        return f"{sign}{whole} h {rest} min" if rest else f"{sign}{whole} h"
    return f"{sign}{hours / 24:.1f} days"


@register.filter
def metric_value(value: Any, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "seconds":
        return span(value)
    if unit == "percent":
        return f"{float(value):.1f} %"
    if unit == "per_release":
        return f"{float(value):.2f}"
    number = float(value)
    return f"{number:.0f}" if number.is_integer() else f"{number:.2f}"


@register.simple_tag
def query(params: dict, **extra: Any) -> str:
    """``params`` with ``extra`` on top, as a query string (empty values dropped)."""
    merged = {k: v for k, v in {**params, **extra}.items() if v not in (None, "")}
    return urlencode(merged)
