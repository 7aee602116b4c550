"""One check for every status change: is this move on the object's transition map?

Each app keeps its map beside its statuses in ``<app>/choices.py``
(``RELEASE_TRANSITIONS``, ``DEPLOYMENT_TRANSITIONS``, ``WINDOW_TRANSITIONS``,
``APPROVAL_TRANSITIONS``, ``MEETING_TRANSITIONS``, ``ITEM_TRANSITIONS``); the
services call ``transition_check`` before they write, so a move the map does
not allow is refused with the same sentence everywhere and changes nothing.
Staying in the same state is the caller's decision (some moves are idempotent,
others are not), so it is not allowed here unless the map says so.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from django.db import models

from core.exceptions import TransitionNotAllowed


def _label(choices: type[models.TextChoices], value: str) -> str:
    try:
        return choices(value).label.lower()
    except ValueError:
        return str(value)


def transition_check(
    *,
    transitions: Mapping[str, Collection[str]],
    choices: type[models.TextChoices],
    noun: str,
    from_state: str,
    to_state: str,
) -> None:
    """Raise ``TransitionNotAllowed`` (409) unless ``transitions`` allows ``from_state`` → ``to_state``.

    ``noun`` names the object in the refusal: "A deployment that is failed
    cannot become succeeded." ``details`` carries both states for programs.
    """
    if to_state in transitions.get(from_state, ()):
        return
    article = "An" if noun[:1].lower() in "aeiou" else "A"
    raise TransitionNotAllowed(
        f"{article} {noun} that is {_label(choices, from_state)} cannot become "
        f"{_label(choices, to_state)}.",
        details={"from_state": str(from_state), "to_state": str(to_state)},
    )
