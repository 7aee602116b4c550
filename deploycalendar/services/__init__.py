"""Every change to the release calendar: windows, freezes, overrides, the queue, plans, feeds.

A package (docs/architecture.md): callers import the public names from here whatever file holds
them.
"""

from deploycalendar.services.feeds import (
    feed_token_create,
    feed_token_hash,
    feed_token_revoke,
    feed_user,
)
from deploycalendar.services.overrides import override_grant
from deploycalendar.services.queue import (
    queue_add,
    queue_cancel,
    queue_due,
    queue_run_due,
    queue_start,
)
from deploycalendar.services.schedules import (
    CONFLICT_SPAN,
    REMINDER_AHEAD,
    schedule_conflicts,
    schedule_reminders_send,
    schedule_set,
)
from deploycalendar.services.violations import freeze_violation_record
from deploycalendar.services.windows import (
    GATE_TIME,
    calendar_rule_remove,
    freeze_create,
    wall_text,
    window_create,
)

__all__ = [
    "CONFLICT_SPAN",
    "GATE_TIME",
    "REMINDER_AHEAD",
    "calendar_rule_remove",
    "feed_token_create",
    "feed_token_hash",
    "feed_token_revoke",
    "feed_user",
    "freeze_create",
    "freeze_violation_record",
    "override_grant",
    "queue_add",
    "queue_cancel",
    "queue_due",
    "queue_run_due",
    "queue_start",
    "schedule_conflicts",
    "schedule_reminders_send",
    "schedule_set",
    "wall_text",
    "window_create",
]
