"""Project-editable message templates, rendered where they can reach only what they are given.

A Django template ``Engine`` with none of the default tags and filters: only the
few registered below (no ``include``, ``load``, ``extends``, ``url``, ``debug`` …),
autoescape on for HTML and off for text, and a context of plain values (strings,
numbers, lists and dicts), never model objects, so a template cannot walk from a
release to its project's secrets.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.template import Context, Engine, Library, TemplateSyntaxError
from django.template import defaultfilters as df
from django.template import defaulttags as dt

from core.exceptions import ValidationFailed

safe = Library()
for _name, _tag in (
    ("if", dt.do_if),
    ("for", dt.do_for),
    ("with", dt.do_with),
    ("firstof", dt.firstof),
    ("comment", dt.comment),
    ("spaceless", dt.spaceless),
    ("now", dt.now),
):
    safe.tag(_name, _tag)
for _name, _filter in (
    ("default", df.default),
    ("default_if_none", df.default_if_none),
    ("upper", df.upper),
    ("lower", df.lower),
    ("title", df.title),
    ("capfirst", df.capfirst),
    ("truncatechars", df.truncatechars),
    ("truncatewords", df.truncatewords),
    ("join", df.join),
    ("length", df.length),
    ("pluralize", df.pluralize),
    ("yesno", df.yesno),
    ("floatformat", df.floatformat),
    ("date", df.date),
    ("first", df.first),
    ("last", df.last),
    ("linebreaksbr", df.linebreaksbr),
    ("urlencode", df.urlencode),
):
    safe.filter(_name, _filter)


class _SandboxEngine(Engine):
    default_builtins: ClassVar[list[str]] = []


def _engine(*, autoescape: bool) -> Engine:
    engine = _SandboxEngine(debug=True, autoescape=autoescape, libraries={}, loaders=[])
    engine.template_builtins = [safe]
    return engine


_TEXT = _engine(autoescape=False)
_HTML = _engine(autoescape=True)


def plain(value: Any) -> Any:
    """``value`` reduced to strings, numbers, booleans, lists and dicts (what a template may see)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def template_problem(source: str) -> str | None:
    """Why ``source`` cannot be a template (a sentence naming the line), or None."""
    try:
        _TEXT.from_string(source)
    except TemplateSyntaxError as exc:
        info = getattr(exc, "template_debug", None) or {}
        line = info.get("line")
        where = f"Line {line}: " if line else ""
        return f"{where}{exc}"
    return None


def render(source: str, values: dict[str, Any], *, html: bool = False) -> str:
    """Render ``source`` with ``values`` (made plain first); a syntax error is a ValidationFailed."""
    problem = template_problem(source)
    if problem:
        raise ValidationFailed(f"The template cannot be used. {problem}", details={"body": problem})
    engine = _HTML if html else _TEXT
    return engine.from_string(source).render(Context(plain(values), autoescape=html))
