import pytest

from core import events


@pytest.fixture
def published_events():
    """Every ``core.events`` event published while the test runs, through the real subscription hook."""
    seen: list[events.Event] = []

    def handler(event: events.Event) -> None:
        seen.append(event)

    events.subscribe(handler)
    yield seen
    events._handlers.remove(handler)
