"""Export, plan and apply a project's configuration (``shipcheck.yml``).

- ``plan``: the export, and what a file would change.
- ``apply``: making the configuration what a file says, through each app's services.

Every public name is importable from ``configfile.services`` itself.
"""

from configfile.services.apply import APPLY_REASON, config_apply
from configfile.services.plan import SCHEMA_PATH, Plan, config_export, config_plan, file_sha256

__all__ = [
    "APPLY_REASON",
    "SCHEMA_PATH",
    "Plan",
    "config_apply",
    "config_export",
    "config_plan",
    "file_sha256",
]
