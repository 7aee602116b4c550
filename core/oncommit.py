"""Side effects that run once the transaction commits, and never undo it.

``after_commit(func, *args, **kwargs)`` is ``transaction.on_commit(..., robust=True)`` for a
call with arguments: if ``func`` raises (a broker that is down, a cache that is gone), Django
logs "Error calling <func> in on_commit()" and the committed change keeps its normal answer.
Django's log line reads the callable's ``__qualname__``, which a ``functools.partial`` lacks
(the logging itself then raised, and the request answered 500): the wrapper carries one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction


def after_commit(func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
    def call() -> None:
        func(*args, **kwargs)

    call.__qualname__ = getattr(func, "__qualname__", None) or repr(func)
    transaction.on_commit(call, robust=True)
