"""A deliberately small JSON path: ``$.data.result[0].value``, ``$['p95 ms']``, ``status``.

Only plain member names, quoted names and array indexes: enough to point at
one value in a health or metrics document, and simple enough to validate
when a check is saved. Wildcards, filters and recursive descent are refused
with a message saying so.
"""

from __future__ import annotations

import re
from typing import Any

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")
_INDEX = re.compile(r"-?\d+")
MAX_LENGTH = 200


class JsonPathError(ValueError):
    pass


def compile_path(text: str) -> tuple[str | int, ...]:
    """Parse ``text`` into keys; raise ``JsonPathError`` with a readable message."""
    text = (text or "").strip()
    if len(text) > MAX_LENGTH:
        raise JsonPathError(f"The JSON path is longer than {MAX_LENGTH} characters.")
    if text in ("", "$"):
        return ()
    if text.startswith("$"):
        rest = text[1:]
    else:
        rest = "." + text if not text.startswith(("[", ".")) else text
    keys: list[str | int] = []
    i = 0
    while i < len(rest):
        ch = rest[i]
        if ch == ".":
            if rest.startswith("..", i):
                raise JsonPathError("Recursive descent ('..') is not supported; name each step.")
            match = _NAME.match(rest, i + 1)
            if not match:
                if rest[i + 1 : i + 2] == "*":
                    raise JsonPathError("Wildcards ('*') are not supported; point at one value.")
                raise JsonPathError(
                    f"Expected a member name after '.' at position {i + 2} of the path."
                )
            keys.append(match.group())
            i = match.end()
        elif ch == "[":
            end = rest.find("]", i)
            if end == -1:
                raise JsonPathError("A '[' in the JSON path is never closed.")
            inner = rest[i + 1 : end].strip()
            if len(inner) >= 2 and inner[0] == inner[-1] and inner[0] in "'\"":
                keys.append(inner[1:-1])
            elif _INDEX.fullmatch(inner):
                keys.append(int(inner))
            elif inner in ("*", ""):
                raise JsonPathError(
                    "Wildcards and empty brackets are not supported; use an index like [0]."
                )
            else:
                raise JsonPathError(
                    f"'[{inner}]' is neither an index like [0] nor a quoted name like ['a b']."
                )
            i = end + 1
        else:
            raise JsonPathError(
                f"Unexpected '{ch}' at position {i + 1} of the path; use '.name' or '[0]'."
            )
    return tuple(keys)


def lookup(document: Any, keys: tuple[str | int, ...]) -> tuple[bool, Any]:
    """(found, value) of ``keys`` in ``document``."""
    current = document
    for key in keys:
        if isinstance(key, int):
            if not isinstance(current, list) or not -len(current) <= key < len(current):
                return False, None
            current = current[key]
        else:
            if not isinstance(current, dict) or key not in current:
                return False, None
            current = current[key]
    return True, current
