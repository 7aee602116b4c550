"""Words for values that ``core``'s template filters show but other apps define.

``projects`` registers its roles (``ProjectsConfig.ready``), so the ``role_label`` filter
says "Product owner" for ``product_owner`` without ``core`` importing ``projects``.
"""

from __future__ import annotations

from collections.abc import Iterable

_role_labels: dict[str, str] = {}


def role_labels_register(choices: Iterable[tuple[str, str]]) -> None:
    """Add ``(value, label)`` pairs, e.g. a ``TextChoices``' ``.choices``."""
    _role_labels.update((str(value), str(label)) for value, label in choices)


def role_label(value: object) -> str:
    """A role as people say it; an unknown value with its underscores as spaces."""
    label = _role_labels.get(str(value))
    return label if label is not None else str(value).replace("_", " ")
