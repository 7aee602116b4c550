"""Every change to incidents, post-mortems and the closing of a release (docs/incidents.md)."""

from incidents.services.incidents import (
    cause_propose,
    escaped_defect_record,
    incident_open,
    incident_resolve,
    incident_transition,
    severity_parse,
)
from incidents.services.postmortems import (
    action_item_add,
    action_item_set_done,
    business_days_after,
    postmortem_due,
    postmortem_for_emergency,
    postmortem_for_incident,
    postmortem_for_rollback,
    postmortem_transition,
    postmortem_update,
    retrospective_open,
)

__all__ = [
    "action_item_add",
    "action_item_set_done",
    "business_days_after",
    "cause_propose",
    "escaped_defect_record",
    "incident_open",
    "incident_resolve",
    "incident_transition",
    "postmortem_due",
    "postmortem_for_emergency",
    "postmortem_for_incident",
    "postmortem_for_rollback",
    "postmortem_transition",
    "postmortem_update",
    "retrospective_open",
    "severity_parse",
]

from incidents.services.closing import (  # noqa: E402
    release_close,
    release_close_blockers,
    ticket_confirm,
)
from incidents.services.response import (  # noqa: E402
    hotfix_link,
    hotfix_start,
    incident_people_set,
    mitigation_decide,
    overdue_updates_remind,
    settings_for,
    settings_update,
    status_update_post,
    timeline_entry_add,
)

__all__ += [
    "hotfix_link",
    "hotfix_start",
    "incident_people_set",
    "mitigation_decide",
    "overdue_updates_remind",
    "release_close",
    "release_close_blockers",
    "settings_for",
    "settings_update",
    "status_update_post",
    "ticket_confirm",
    "timeline_entry_add",
]
