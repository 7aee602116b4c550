from __future__ import annotations

from core.exceptions import Conflict, ValidationFailed


class ConfigInvalid(ValidationFailed):
    """The file has problems; ``details["errors"]`` lists each with its line and column."""

    code = "config_invalid"

    def __init__(self, problems, *, applied: bool = False):
        self.problems = list(problems)
        count = len(self.problems)
        first = str(self.problems[0]) if self.problems else ""
        super().__init__(
            f"shipcheck.yml has {count} problem{'s' if count != 1 else ''}; nothing was "
            f"{'applied' if applied else 'changed'}. First: {first}",
            details={"errors": [p.as_dict() for p in self.problems]},
        )


class StalePlan(Conflict):
    """The server's configuration is not the one the plan was made against."""

    code = "stale_plan"

    def __init__(self, *, expected: str, actual: str):
        super().__init__(
            "The project's configuration changed since this plan was made: nothing was applied. "
            "Run 'shipcheck config plan' again and review the new difference.",
            details={"expected_fingerprint": expected, "current_fingerprint": actual},
        )
