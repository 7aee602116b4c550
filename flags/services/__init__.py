"""Every write of the flags app (flags and keys, rollout plans, the watch of a step, hooks)."""

from flags.services.checklist import plan_checklist_tick, plan_flag_items
from flags.services.flags import (
    flag_authorize,
    flag_cache_forget,
    flag_create,
    flag_set_rollout,
    flag_system_set,
    flag_update,
    sdk_key_create,
    sdk_key_revoke,
)
from flags.services.hooks import plan_hook_send
from flags.services.outcomes import flags_tick, plan_drift_check, step_conclude
from flags.services.plans import (
    plan_abort,
    plan_advance,
    plan_complete,
    plan_create,
    plan_pause,
    plan_resume,
    plan_skip,
    plan_start,
)
from flags.services.steps import plan_authorize, steps_clean

__all__ = [
    "flag_authorize",
    "plan_checklist_tick",
    "plan_flag_items",
    "flag_cache_forget",
    "flag_create",
    "flag_set_rollout",
    "flag_system_set",
    "flag_update",
    "flags_tick",
    "plan_abort",
    "plan_advance",
    "plan_authorize",
    "plan_complete",
    "plan_create",
    "plan_drift_check",
    "plan_hook_send",
    "plan_pause",
    "plan_resume",
    "plan_skip",
    "plan_start",
    "sdk_key_create",
    "sdk_key_revoke",
    "step_conclude",
    "steps_clean",
]
