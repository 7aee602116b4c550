"""A JSON parser that no body can crash.

Python's json module recurses once per nesting level, so a body of a few
thousand '[' raises RecursionError (not ValueError), which DRF's parser
would let through as a server error. Text that the database cannot store
(NUL characters, lone surrogates) is refused here too, with a message,
instead of failing at the INSERT.
"""

from __future__ import annotations

import codecs
import json

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils import json as drf_json

# Real payloads nest three or four levels; this leaves room and stays far from
# the interpreter's recursion limit.
MAX_JSON_DEPTH = 32


def _problem(value) -> str | None:
    """Walk the parsed document without recursion; return the first problem found."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return f"The JSON body nests deeper than {MAX_JSON_DEPTH} levels."
        if isinstance(item, dict):
            stack.extend((k, depth) for k in item)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
        elif isinstance(item, str):
            if "\x00" in item:
                return "Text in the JSON body may not contain NUL (\\u0000) characters."
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return "Text in the JSON body contains a lone surrogate (an invalid \\uD800-\\uDFFF escape)."
    return None


class SafeJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
            parse_constant = drf_json.strict_constant if self.strict else None
            data = json.loads(text, parse_constant=parse_constant)
        except RecursionError:
            raise ParseError(f"The JSON body nests deeper than {MAX_JSON_DEPTH} levels.") from None
        except (ValueError, UnicodeDecodeError, LookupError) as exc:
            raise ParseError(f"The body is not valid JSON: {str(exc)[:200]}") from None
        problem = _problem(data)
        if problem:
            raise ParseError(problem)
        return data
