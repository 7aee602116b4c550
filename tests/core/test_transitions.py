"""Issue 12, item 16: one transition helper, and the maps it enforces in every app."""

from __future__ import annotations

import pytest

from core.exceptions import TransitionNotAllowed
from core.transitions import transition_check
from releases.choices import DEPLOYMENT_TRANSITIONS, DeploymentStatus


def test_transition_check__allowed_move__passes():
    transition_check(
        transitions=DEPLOYMENT_TRANSITIONS,
        choices=DeploymentStatus,
        noun="deployment",
        from_state=DeploymentStatus.IN_PROGRESS,
        to_state=DeploymentStatus.SUCCEEDED,
    )


def test_transition_check__move_off_the_map__is_refused_with_a_sentence_and_both_states():
    with pytest.raises(TransitionNotAllowed) as exc:
        transition_check(
            transitions=DEPLOYMENT_TRANSITIONS,
            choices=DeploymentStatus,
            noun="deployment",
            from_state=DeploymentStatus.ROLLED_BACK,
            to_state=DeploymentStatus.SUCCEEDED,
        )
    assert exc.value.message == "A deployment that is rolled back cannot become succeeded."
    assert exc.value.details == {"from_state": "rolled_back", "to_state": "succeeded"}
    assert exc.value.status == 409


def test_transition_check__same_state__is_refused_unless_the_map_allows_it():
    with pytest.raises(TransitionNotAllowed):
        transition_check(
            transitions=DEPLOYMENT_TRANSITIONS,
            choices=DeploymentStatus,
            noun="deployment",
            from_state=DeploymentStatus.FAILED,
            to_state=DeploymentStatus.FAILED,
        )


def test_transition_check__noun_with_a_vowel__takes_an():
    with pytest.raises(TransitionNotAllowed) as exc:
        transition_check(
            transitions={"a": frozenset()},
            choices=DeploymentStatus,
            noun="item",
            from_state="a",
            to_state="b",
        )
    assert exc.value.message.startswith("An item that is a cannot become b.")
