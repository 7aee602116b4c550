"""Reading ``shipcheck.yml``: YAML with the line and column of every value, then the schema.

The CLI sends the file's text untouched, so the server parses it and can point
at the line of every problem (PyYAML's composed nodes carry their marks).
Errors are collected, never raised one by one: a person fixes a file in one go.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from configfile.schema import config_schema

# A file is a few hundred lines; these bounds keep a hostile one (aliases that
# expand exponentially, huge texts) from costing the server more than that.
MAX_FILE_CHARS = 1_000_000
MAX_NODES = 50_000

Path = tuple[Any, ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the file, where it is, and what to do about it."""

    message: str
    line: int | None = None
    column: int | None = None
    path: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "message": self.message,
        }

    def __str__(self) -> str:
        where = f"line {self.line}, column {self.column}" if self.line else "the file"
        return f"{where}: {self.message}"


def path_text(path: Path) -> str:
    """("environments", 1, "tier") → "environments[1].tier"."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text


@dataclass
class Document:
    """The file's data with the marks of each value and key."""

    data: Any = None
    marks: dict[Path, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[Path, tuple[int, int]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def where(self, path: Path, *, key: bool = False) -> tuple[int | None, int | None]:
        """The line and column of ``path`` (its key when ``key``), else of its nearest parent."""
        path = tuple(path)
        if key and path in self.key_marks:
            return self.key_marks[path]
        while path:
            if path in self.marks:
                return self.marks[path]
            path = path[:-1]
        return self.marks.get((), (1, 1))

    def problem(self, path: Path, message: str, *, key: bool = False) -> Problem:
        line, column = self.where(path, key=key)
        found = Problem(message=message, line=line, column=column, path=path_text(path))
        if found not in self.problems:
            self.problems.append(found)
        return found


class _Builder:
    def __init__(self, loader: yaml.SafeLoader, document: Document):
        self.loader = loader
        self.document = document
        self.count = 0

    @staticmethod
    def _mark(node) -> tuple[int, int]:
        return node.start_mark.line + 1, node.start_mark.column + 1

    def build(self, node, path: Path) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooLarge
        self.document.marks[path] = self._mark(node)
        if isinstance(node, yaml.MappingNode):
            self.loader.flatten_mapping(node)  # resolve "<<: *defaults" merges
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    line, column = self._mark(key_node)
                    self.document.problems.append(
                        Problem("A key must be a plain word.", line, column, path_text(path))
                    )
                    continue
                key = str(self.loader.construct_scalar(key_node))
                if key in result:
                    line, column = self._mark(key_node)
                    self.document.problems.append(
                        Problem(
                            f"'{key[:60]}' appears twice here; keep one.",
                            line,
                            column,
                            path_text((*path, key)),
                        )
                    )
                    continue
                self.document.key_marks[(*path, key)] = self._mark(key_node)
                result[key] = self.build(value_node, (*path, key))
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, index)) for index, item in enumerate(node.value)]
        value = self.loader.construct_object(node, deep=True)
        if isinstance(value, str) and "\x00" in value:
            line, column = self._mark(node)
            self.document.problems.append(
                Problem("Text may not contain a NUL character.", line, column, path_text(path))
            )
            return value.replace("\x00", "")
        if isinstance(value, float) and not math.isfinite(value):
            line, column = self._mark(node)
            self.document.problems.append(
                Problem("Numbers must be finite.", line, column, path_text(path))
            )
        return value


class _TooLarge(Exception):
    pass


def parse_text(text: str) -> Document:
    """The document of ``text``; its ``problems`` say what makes it unreadable, if anything."""
    document = Document()
    if not isinstance(text, str) or not text.strip():
        document.problems.append(Problem("The file is empty.", 1, 1))
        return document
    if len(text) > MAX_FILE_CHARS:
        document.problems.append(
            Problem(f"The file is longer than {MAX_FILE_CHARS} characters.", 1, 1)
        )
        return document
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            document.problems.append(Problem("The file is empty.", 1, 1))
            return document
        document.data = _Builder(loader, document).build(node, ())
    except _TooLarge:
        document.problems.append(
            Problem(f"The file has more than {MAX_NODES} values (or aliases expanding to them).")
        )
        document.data = None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = (
            " ".join(str(part) for part in (exc.context, exc.problem) if part).strip()
            or "not valid YAML"
        )
        document.problems.append(
            Problem(
                f"This is not valid YAML: {message}.",
                (mark.line + 1) if mark else None,
                (mark.column + 1) if mark else None,
            )
        )
        document.data = None
    except (yaml.YAMLError, ValueError, TypeError, RecursionError) as exc:
        document.problems.append(Problem(f"This is not valid YAML: {str(exc)[:200]}."))
        document.data = None
    finally:
        loader.dispose()
    return document


_TYPE_WORDS = {
    "object": "a mapping (key: value lines)",
    "array": "a list",
    "string": "a text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "empty (null)",
}


def _type_words(expected: str | list[str]) -> str:
    names: list[str] = expected if isinstance(expected, list) else [expected]
    return " or ".join(_TYPE_WORDS.get(n, n) for n in names)


def _shown(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else f"'{value}'"
    return text if len(text) <= 60 else text[:57] + "..."


def _schema_message(error) -> str | None:
    """A sentence for one jsonschema error (None: reported another way)."""
    kind = error.validator
    value = error.instance
    if kind == "type":
        return f"Expected {_type_words(error.validator_value)}, not {_shown(value)}."
    if kind == "enum":
        allowed = ", ".join(str(v) for v in error.validator_value)
        return f"{_shown(value)} is not allowed here; choose one of: {allowed}."
    if kind == "const":
        return f"Must be {error.validator_value!r} (the only file format version so far)."
    if kind == "required":
        missing = [name for name in error.validator_value if name not in (value or {})]
        return "Missing " + ", ".join(f"'{m}'" for m in missing) + "."
    if kind == "minimum":
        return f"Must be at least {error.validator_value}, not {_shown(value)}."
    if kind == "maximum":
        return f"Must be at most {error.validator_value}, not {_shown(value)}."
    if kind == "maxLength":
        return f"Longer than {error.validator_value} characters."
    if kind == "minLength":
        return "May not be empty."
    if kind == "minItems":
        return f"Needs at least {error.validator_value} entry."
    if kind == "maxProperties":
        return f"At most {error.validator_value} entries."
    if kind == "uniqueItems":
        return "Lists the same entry twice."
    if kind == "pattern":
        if error.validator_value == r"\S":
            return "May not be blank."
        if error.validator_value.startswith("^[A-Za-z_]"):
            return f"{_shown(value)} is not an environment variable name (letters, digits, _)."
        return (
            f"{_shown(value)} is not a valid name: use letters, digits, '-' and '_' (at most 40)."
        )
    if kind == "anyOf":
        return None
    return error.message


def schema_problems(document: Document) -> None:
    """Add a problem per schema violation, each at its line."""
    validator = Draft202012Validator(config_schema())
    for error in sorted(validator.iter_errors(document.data), key=lambda e: list(map(str, e.path))):
        path = tuple(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = sorted(error.schema.get("properties", {}))
            for key in error.instance:
                if key not in allowed:
                    document.problem(
                        (*path, key),
                        f"Unknown key '{str(key)[:60]}'. Allowed here: {', '.join(allowed)}.",
                        key=True,
                    )
            continue
        if error.validator == "anyOf":
            # rollback_hook: null or a mapping; report the mapping's own errors.
            best = [e for e in error.context if e.validator != "type" or e.path]
            if not best:
                document.problem(
                    path, f"Expected empty (null) or a mapping, not {_shown(error.instance)}."
                )
            for sub in best:
                sub_path = (*path, *sub.path)
                if sub.validator == "additionalProperties":
                    allowed = sorted(sub.schema.get("properties", {}))
                    for key in sub.instance:
                        if key not in allowed:
                            document.problem(
                                (*sub_path, key),
                                f"Unknown key '{str(key)[:60]}'. Allowed here: {', '.join(allowed)}.",
                                key=True,
                            )
                else:
                    document.problem(sub_path, _schema_message(sub) or sub.message)
            continue
        message = _schema_message(error)
        if message:
            document.problem(path, message)
